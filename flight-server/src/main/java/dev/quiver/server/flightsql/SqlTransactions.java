package dev.quiver.server.flightsql;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.protobuf.ByteString;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.TransactionSettings;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.TableTransaction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open Flight SQL transactions, by id: BeginTransaction opens one for the caller's user, its
 * statements run one at a time through {@link #run}, EndTransaction commits or rolls it back.
 *
 * <p>An id is known only to the user who began it (another user's id is TRANSACTION_NOT_FOUND, as
 * an unknown one). A transaction no statement used for {@link TransactionSettings#timeout} is
 * rolled back by a background sweep, which deletes its staged files; a user holds at most {@link
 * TransactionSettings#maxPerUser} open at once.
 */
@ThreadSafe
public final class SqlTransactions implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlTransactions.class);

  private final IcebergTableStore store;
  private final TransactionSettings settings;
  private final Map<ByteString, Open> open = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sweeper;

  /** One open transaction; {@code lock} serialises its statements and its end. */
  private static final class Open {
    final String id;
    final String user;
    final TableTransaction tables;
    final ReentrantLock lock = new ReentrantLock();
    volatile long lastUsedNanos = System.nanoTime();

    Open(String id, String user, TableTransaction tables) {
      this.id = id;
      this.user = user;
      this.tables = tables;
    }
  }

  /** A statement run inside a transaction. */
  public interface Work<T> {
    T run(TableTransaction transaction) throws Exception;
  }

  public SqlTransactions(IcebergTableStore store, TransactionSettings settings) {
    this.store = requireNonNull(store, "store is null");
    this.settings = requireNonNull(settings, "settings is null");
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "quiver-transaction-expiry");
              thread.setDaemon(true);
              return thread;
            });
    long period = Math.max(50, Math.min(settings.timeout().toMillis() / 4, 10_000));
    sweeper.scheduleWithFixedDelay(this::expire, period, period, TimeUnit.MILLISECONDS);
  }

  /** The idle time after which a transaction is rolled back. */
  public Duration timeout() {
    return settings.timeout();
  }

  /** Opens a transaction for {@code user} and returns its id; LIMIT_EXCEEDED past the cap. */
  public ByteString begin(String caller) {
    String user = caller == null ? "" : caller;
    synchronized (this) {
      long held = open.values().stream().filter(o -> o.user.equals(user)).count();
      if (held >= settings.maxPerUser()) {
        throw new QuiverException(
            QuiverErrorCode.LIMIT_EXCEEDED,
            "User %s has %d transactions open, the most sql.max-transactions-per-user allows;"
                + " commit or roll back one first",
            user.isEmpty() ? "(anonymous)" : user,
            held);
      }
      String id = UUID.randomUUID().toString();
      ByteString key = ByteString.copyFrom(id, StandardCharsets.UTF_8);
      open.put(key, new Open(id, user, store.newTransaction(id)));
      return key;
    }
  }

  /**
   * Runs {@code work} inside transaction {@code id} of {@code user}, after any statement of it that
   * is running; TRANSACTION_NOT_FOUND when {@code user} has no such open transaction.
   */
  public <T> T run(ByteString id, String user, Work<T> work) throws Exception {
    Open transaction = find(id, user);
    transaction.lock.lock();
    try {
      requireOpen(transaction);
      try {
        return work.run(transaction.tables);
      } finally {
        transaction.lastUsedNanos = System.nanoTime();
      }
    } finally {
      transaction.lock.unlock();
    }
  }

  /** As {@link #run}, for a check that throws only unchecked exceptions. */
  public void check(
      ByteString id, String user, java.util.function.Consumer<TableTransaction> check) {
    Open transaction = find(id, user);
    transaction.lock.lock();
    try {
      requireOpen(transaction);
      check.accept(transaction.tables);
    } finally {
      transaction.lock.unlock();
    }
  }

  /** Commits transaction {@code id} of {@code user}: the receipt, empty when it changed nothing. */
  public Optional<PutReceipt> commit(ByteString id, String user) throws IOException {
    Open transaction = find(id, user);
    transaction.lock.lock();
    try {
      requireOpen(transaction);
      open.remove(id);
      return transaction.tables.commit();
    } finally {
      transaction.lock.unlock();
    }
  }

  /** Rolls transaction {@code id} of {@code user} back, deleting its staged files. */
  public void rollback(ByteString id, String user) throws IOException {
    Open transaction = find(id, user);
    transaction.lock.lock();
    try {
      requireOpen(transaction);
      open.remove(id);
      transaction.tables.rollback();
    } finally {
      transaction.lock.unlock();
    }
  }

  /**
   * Refuses (UNSUPPORTED_OPERATION) a statement of {@code transaction} that reads a table the
   * transaction has changed: reads see committed snapshots, not a transaction's staged changes.
   */
  public static void refuseReadsOfChanged(
      TableTransaction transaction, java.util.Set<dev.quiver.client.TableId> reads) {
    for (dev.quiver.client.TableId changed : transaction.changedTables()) {
      if (reads.contains(changed)) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Transaction %s has changed table %s, and reading a table's staged changes inside its"
                + " transaction is not supported yet; read %s after COMMIT (tables it has not"
                + " changed may be read inside the transaction)",
            transaction.name(),
            changed,
            changed);
      }
    }
  }

  /** How many transactions are open. */
  public int size() {
    return open.size();
  }

  private Open find(ByteString id, String caller) {
    String user = caller == null ? "" : caller;
    Open transaction = open.get(id);
    if (transaction == null || !transaction.user.equals(user)) {
      throw notFound(id.toStringUtf8());
    }
    return transaction;
  }

  private QuiverException notFound(String id) {
    return new QuiverException(
        QuiverErrorCode.TRANSACTION_NOT_FOUND,
        "Transaction %s is not open: it was never begun by this user, has ended, or expired after"
            + " %s idle (sql.transaction-timeout)",
        id,
        settings.timeout());
  }

  private void requireOpen(Open transaction) {
    if (transaction.tables.ended()) {
      throw notFound(transaction.id);
    }
  }

  /** Rolls back every transaction idle past the timeout and not running a statement now. */
  private void expire() {
    long now = System.nanoTime();
    for (Map.Entry<ByteString, Open> entry : open.entrySet()) {
      Open transaction = entry.getValue();
      if (!transaction.lock.tryLock()) {
        continue; // running a statement: not idle
      }
      try {
        if (now - transaction.lastUsedNanos < settings.timeout().toNanos()) {
          continue;
        }
        open.remove(entry.getKey(), transaction);
        transaction.tables.rollback();
        LOG.info(
            "Transaction {} of user {} expired after {} idle; rolled back",
            transaction.id,
            transaction.user,
            settings.timeout());
      } catch (IOException | RuntimeException e) {
        LOG.warn("Transaction {}: rolling back on expiry failed", transaction.id, e);
      } finally {
        transaction.lock.unlock();
      }
    }
  }

  /** Stops the sweep and rolls back every open transaction. */
  @Override
  public void close() throws InterruptedException {
    sweeper.shutdownNow();
    sweeper.awaitTermination(10, TimeUnit.SECONDS);
    for (ByteString id : open.keySet()) {
      Open transaction = open.remove(id);
      if (transaction != null) {
        transaction.lock.lock();
        try {
          transaction.tables.rollback();
        } catch (IOException | RuntimeException e) {
          LOG.warn("Transaction {}: rolling back on shutdown failed", transaction.id, e);
        } finally {
          transaction.lock.unlock();
        }
      }
    }
  }
}
