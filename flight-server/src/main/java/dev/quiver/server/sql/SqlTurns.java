package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.server.memory.AdmissionQueue.Outcome;
import dev.quiver.server.memory.AdmissionQueue.Resource;
import java.util.EnumSet;
import java.util.function.BooleanSupplier;

/**
 * The turns of the SQL engine: at most {@code sql.max-concurrent-queries} DuckDB queries (Flight
 * SQL statements and DoGet scans) run at once, so that the queries sharing {@code sql.memory-limit}
 * each have room to work. A query that finds every turn taken waits in the server's one {@link
 * AdmissionQueue}, under its deadline and bound, then fails with SERVER_MEMORY_EXHAUSTED naming
 * {@code sql.max-concurrent-queries}.
 *
 * <p>DuckDB fails a query that finds its memory full (and a mere connection that needs a few bytes
 * of it); without turns sixteen clients scanning at once under a 32 MB limit fail now and then,
 * whereas queued they finish in turn. A running query holds its turn until it is closed, streaming
 * included: its DuckDB buffers stay in use while a slow client reads.
 */
@ThreadSafe
public final class SqlTurns {
  /** The config key that sets the number of turns. */
  static final String SLOTS_KEY = "sql.max-concurrent-queries";

  private final int slots;
  private final AdmissionQueue line;

  @GuardedBy("this")
  private int running;

  /**
   * What the turns hold and have done: the {@code sql} part of the memory report.
   *
   * @param slots the most queries that run at once
   * @param running queries running now
   * @param queued queries waiting for a turn now
   * @param waits queries that have had to wait for a turn since the start
   * @param refused queries refused (queue full or timed out) while waiting for a turn
   */
  public record Status(int slots, int running, int queued, long waits, long refused) {}

  /** One query's turn; closing it gives it back, and a second close does nothing. */
  public final class Turn implements AutoCloseable {
    @GuardedBy("SqlTurns.this")
    private boolean released;

    private Turn() {}

    @Override
    public void close() {
      synchronized (SqlTurns.this) {
        if (released) {
          return;
        }
        released = true;
        running--;
      }
      line.released();
    }
  }

  /**
   * @param slots the most queries that run at once
   * @param line the queue a query waits in when every turn is taken
   */
  public SqlTurns(int slots, AdmissionQueue line) {
    if (slots < 1) {
      throw new IllegalArgumentException("The SQL engine needs at least one turn, got " + slots);
    }
    this.slots = slots;
    this.line = requireNonNull(line, "line is null");
  }

  /** A turn if one is free now, else null; for a caller waiting for several things at once. */
  public Turn tryTake() {
    synchronized (this) {
      if (running >= slots) {
        return null;
      }
      running++;
    }
    return new Turn();
  }

  /**
   * Takes a turn for query {@code name}, waiting in line when none is free. {@code cancelled} is
   * checked whenever the waiter is woken ({@link AdmissionQueue#wake}).
   *
   * @throws QuiverException SERVER_MEMORY_EXHAUSTED when the line is full or the wait times out,
   *     CANCELLED when {@code cancelled} turns true or the thread is interrupted
   */
  public Turn take(String name, BooleanSupplier cancelled) {
    return line.admit(
        name,
        EnumSet.of(Resource.SQL_TURN),
        () -> {
          Turn turn = tryTake();
          return turn == null ? Outcome.shortOf(Resource.SQL_TURN) : Outcome.admitted(turn);
        },
        cancelled,
        (shortOf, limitKey) -> refuse(name, limitKey));
  }

  /** Wakes every waiter to check whether it was cancelled. */
  void wake() {
    line.wake();
  }

  /**
   * The refusal of query {@code name}, which found every turn taken until {@code limitKey} (the
   * admission queue or timeout) ended its wait.
   */
  public QuiverException refuse(String name, String limitKey) {
    String reason =
        limitKey.equals(AdmissionQueue.QUEUE_KEY)
            ? "the queue is full (" + limitKey + ")"
            : String.format("waited %d ms (%s)", line.timeout().toMillis(), limitKey);
    int now;
    synchronized (this) {
      now = running;
    }
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        "%s: the SQL engine is busy (running %d of %s = %d queries, which share"
            + " sql.memory-limit); %s",
        name,
        now,
        SLOTS_KEY,
        slots,
        reason);
  }

  public Status status() {
    AdmissionQueue.Status waiting = line.status(Resource.SQL_TURN);
    synchronized (this) {
      return new Status(slots, running, waiting.queued(), waiting.waits(), waiting.refused());
    }
  }
}
