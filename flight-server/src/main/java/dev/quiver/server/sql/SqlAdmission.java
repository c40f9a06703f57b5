package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Admits DuckDB queries (Flight SQL statements and DoGet scans): at most {@link Settings#slots} run
 * at once, so that the queries sharing {@code sql.memory-limit} each have room to work; the rest
 * wait in first-come order, at most {@link Settings#queueLength} of them for at most {@link
 * Settings#timeout} (the memory.admission-* settings), then fail with SERVER_MEMORY_EXHAUSTED
 * naming {@code sql.max-concurrent-queries}.
 *
 * <p>DuckDB fails a query that finds its memory full (and a mere connection that needs a few bytes
 * of it); without this gate sixteen clients scanning at once under a 32 MB limit fail now and then,
 * whereas queued they finish in turn. A running query holds its slot until it is closed, streaming
 * included: its DuckDB buffers stay in use while a slow client reads.
 *
 * <p>Thread-safe.
 */
public final class SqlAdmission {
  /** The config key that sets {@link Settings#slots}. */
  static final String SLOTS_KEY = "sql.max-concurrent-queries";

  private final Settings settings;
  private final Object lock = new Object();
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private int running;
  private long waits;
  private long refused;

  /**
   * @param slots the most queries that run at once
   * @param queueLength the most queries that wait; 0 refuses at once when every slot is taken
   * @param timeout the longest a query waits
   */
  record Settings(int slots, int queueLength, Duration timeout) {
    Settings {
      requireNonNull(timeout, "timeout is null");
      if (slots < 1 || queueLength < 0 || timeout.isNegative()) {
        throw new IllegalArgumentException(
            "Invalid SQL admission: slots " + slots + ", queue " + queueLength + ", " + timeout);
      }
    }
  }

  /**
   * What the gate holds and has done: the {@code sql} part of the memory report.
   *
   * @param slots the most queries that run at once
   * @param running queries running now
   * @param queued queries waiting now
   * @param waits queries that have had to wait since the start
   * @param refused queries refused (queue full or timed out) since the start
   */
  public record Status(int slots, int running, int queued, long waits, long refused) {}

  SqlAdmission(Settings settings) {
    this.settings = requireNonNull(settings, "settings is null");
  }

  /**
   * Takes a slot for query {@code name}, waiting in line when none is free; the returned release
   * gives it back and may be run any number of times. {@code cancelled} is checked whenever the
   * waiter is woken ({@link #wake}).
   *
   * @throws QuiverException SERVER_MEMORY_EXHAUSTED when the line is full or the wait times out,
   *     CANCELLED when {@code cancelled} turns true or the thread is interrupted
   */
  Runnable admit(String name, BooleanSupplier cancelled) {
    Object me = new Object();
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    synchronized (lock) {
      if (queue.isEmpty() && running < settings.slots()) {
        running++;
        return releaser();
      }
      if (queue.size() >= settings.queueLength()) {
        refused++;
        throw refuse(name, "the queue is full (memory.admission-queue)");
      }
      queue.addLast(me);
      waits++;
      try {
        while (queue.peekFirst() != me || running >= settings.slots()) {
          if (cancelled.getAsBoolean()) {
            throw new QuiverException(
                QuiverErrorCode.CANCELLED, "%s was cancelled while waiting to run", name);
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            refused++;
            throw refuse(
                name,
                String.format(
                    "waited %d ms (memory.admission-timeout)", settings.timeout().toMillis()));
          }
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
        running++;
        return releaser();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new QuiverException(
            QuiverErrorCode.CANCELLED, "%s was interrupted while waiting to run", name);
      } finally {
        queue.remove(me);
        lock.notifyAll();
      }
    }
  }

  /** Wakes every waiter to check whether it was cancelled. */
  void wake() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  Status status() {
    synchronized (lock) {
      return new Status(settings.slots(), running, queue.size(), waits, refused);
    }
  }

  private Runnable releaser() {
    return new Runnable() {
      private boolean released;

      @Override
      public void run() {
        synchronized (lock) {
          if (!released) {
            released = true;
            running--;
            lock.notifyAll();
          }
        }
      }
    };
  }

  private QuiverException refuse(String name, String reason) {
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        "%s: the SQL engine is busy (running %d of %s = %d queries, which share"
            + " sql.memory-limit); %s",
        name,
        running,
        SLOTS_KEY,
        settings.slots(),
        reason);
  }
}
