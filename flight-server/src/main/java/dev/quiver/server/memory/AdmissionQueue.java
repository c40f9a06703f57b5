package dev.quiver.server.memory;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The one line calls wait in before they run, for everything they need at once (a memory
 * reservation, a turn of the SQL engine), under one deadline ({@code memory.admission-timeout}) and
 * one bound on its length ({@code memory.admission-queue}).
 *
 * <p>Fair: tries happen one at a time, in arrival order. A waiter may try when every waiter ahead
 * of it last came up short of something it does not need itself (a put that needs only memory may
 * pass a scan that waits for a SQL turn, never one that waits for memory), so no newcomer takes
 * what an earlier waiter is waiting for. A waiter tries again each time something is given back
 * ({@link #released}), or when the waiters ahead of it change.
 */
@ThreadSafe
public final class AdmissionQueue {
  public static final String QUEUE_KEY = "memory.admission-queue";
  public static final String TIMEOUT_KEY = "memory.admission-timeout";

  /** What a call may have to wait for. */
  public enum Resource {
    /** A call allocator's reservation of memory.call-reservation bytes. */
    MEMORY,
    /** One of sql.max-concurrent-queries turns of the SQL engine. */
    SQL_TURN,
    /** A turn of the Parquet writer, whose row groups share duckdb.memory-limit. */
    WRITER_TURN
  }

  /**
   * One try at everything a call needs, all or nothing.
   *
   * @param <T> what the call holds once admitted
   */
  @FunctionalInterface
  public interface Attempt<T> {
    /**
     * Takes everything the call needs without blocking and returns it, or takes nothing and returns
     * {@link Outcome#shortOf}. Runs with no lock of this queue held.
     */
    Outcome<T> tryNow();
  }

  /**
   * What one try got: the admitted value, or the resource that was short.
   *
   * @param value what the call holds, when admitted
   * @param shortOf the resource that was short, when not
   */
  public record Outcome<T>(T value, Resource shortOf) {
    public static <T> Outcome<T> admitted(T value) {
      return new Outcome<>(requireNonNull(value, "value is null"), null);
    }

    public static <T> Outcome<T> shortOf(Resource resource) {
      return new Outcome<>(null, requireNonNull(resource, "resource is null"));
    }
  }

  /** Builds the refusal of a call that cannot be admitted, from why it was refused. */
  @FunctionalInterface
  public interface Refusal {
    /**
     * @param shortOf what the call was waiting for
     * @param limitKey the admission key that ended the wait: {@link #QUEUE_KEY} or {@link
     *     #TIMEOUT_KEY}
     */
    QuiverException refuse(Resource shortOf, String limitKey);
  }

  /**
   * What the line holds and has done for one resource: the report's admission figures.
   *
   * @param queued calls waiting for it now
   * @param waits calls that have had to wait for it since the start
   * @param refused calls refused (line full or timed out) while short of it since the start
   */
  public record Status(int queued, long waits, long refused) {}

  private final int maxQueued;
  private final Duration timeout;
  private final Object lock = new Object();

  @GuardedBy("lock")
  private final ArrayDeque<Waiter> line = new ArrayDeque<>();

  @GuardedBy("lock")
  private boolean trying;

  @GuardedBy("lock")
  private long releases;

  @GuardedBy("lock")
  private final EnumMap<Resource, Long> waits = new EnumMap<>(Resource.class);

  @GuardedBy("lock")
  private final EnumMap<Resource, Long> refused = new EnumMap<>(Resource.class);

  /**
   * @param maxQueued the most calls that wait at once; 0 refuses a call the first try cannot admit
   * @param timeout the longest a call waits
   */
  public AdmissionQueue(int maxQueued, Duration timeout) {
    requireNonNull(timeout, "timeout is null");
    if (maxQueued < 0 || timeout.isNegative()) {
      throw new IllegalArgumentException(
          "Admission settings must not be negative: " + maxQueued + ", " + timeout);
    }
    this.maxQueued = maxQueued;
    this.timeout = timeout;
  }

  public Duration timeout() {
    return timeout;
  }

  /** The most calls that wait at once. */
  public int maxQueued() {
    return maxQueued;
  }

  /**
   * Admits call {@code name}: tries {@code attempt} in its turn, waiting in line while it comes up
   * short, and returns what it took. {@code needs} says which resources the attempt takes (which
   * waiters ahead of it it must not pass). {@code cancelled} is checked whenever the waiter wakes.
   *
   * @throws QuiverException from {@code refusal} when the line is full or the wait times out;
   *     CANCELLED when {@code cancelled} turns true or the thread is interrupted
   */
  public <T> T admit(
      String name,
      Set<Resource> needs,
      Attempt<T> attempt,
      BooleanSupplier cancelled,
      Refusal refusal) {
    Waiter me = new Waiter(EnumSet.copyOf(needs));
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      line.addLast(me);
    }
    try {
      while (true) {
        awaitTurn(name, me, deadline, cancelled, refusal);
        Outcome<T> outcome;
        try {
          outcome = attempt.tryNow();
        } finally {
          synchronized (lock) {
            trying = false;
            lock.notifyAll();
          }
        }
        if (outcome.value() != null) {
          return outcome.value();
        }
        synchronized (lock) {
          me.shortOf = outcome.shortOf();
          join(me, refusal);
        }
      }
    } finally {
      synchronized (lock) {
        line.remove(me);
        lock.notifyAll();
      }
    }
  }

  @SuppressWarnings("GuardedBy") // waits on the lock it holds
  private void awaitTurn(
      String name, Waiter me, long deadline, BooleanSupplier cancelled, Refusal refusal) {
    synchronized (lock) {
      try {
        while (trying || blockedBy(me) != null) {
          Resource blocked = blockedBy(me);
          if (blocked != null) {
            if (me.shortOf == null) {
              me.shortOf = blocked; // waits, untried, for what the waiter ahead waits for
            }
            join(me, refusal);
          }
          if (cancelled.getAsBoolean()) {
            throw new QuiverException(
                QuiverErrorCode.CANCELLED, "%s was cancelled while waiting to run", name);
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            count(refused, me.shortOf());
            throw refusal.refuse(me.shortOf(), TIMEOUT_KEY);
          }
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new QuiverException(
            QuiverErrorCode.CANCELLED, "%s was interrupted while waiting to run", name);
      }
      trying = true;
      me.tried = true;
      me.triedAt = releases;
    }
  }

  /**
   * Counts {@code me} as waiting, the first time it has to wait for something other than another
   * waiter's try in progress; refuses it when the line is full.
   */
  @GuardedBy("lock")
  private void join(Waiter me, Refusal refusal) {
    if (me.waited) {
      return;
    }
    if (waiting(null) >= maxQueued) {
      count(refused, me.shortOf());
      throw refusal.refuse(me.shortOf(), QUEUE_KEY);
    }
    me.waited = true;
    count(waits, me.shortOf());
  }

  @GuardedBy("lock")
  private static void count(EnumMap<Resource, Long> counts, Resource resource) {
    counts.merge(resource, 1L, Long::sum);
  }

  /** Waiters counted against the bound; of those, the ones short of {@code resource} if given. */
  @GuardedBy("lock")
  private int waiting(Resource resource) {
    int n = 0;
    for (Waiter w : line) {
      if (w.waited && (resource == null || w.shortOf() == resource)) {
        n++;
      }
    }
    return n;
  }

  /**
   * What keeps {@code me} from trying now, or null if it may (see the class comment): its own
   * shortfall when nothing came back since its last try, else what a waiter ahead of it, which
   * needs the same, waits for.
   */
  @GuardedBy("lock")
  private Resource blockedBy(Waiter me) {
    if (me.tried && me.triedAt == releases) {
      return me.shortOf();
    }
    for (Waiter ahead : line) {
      if (ahead == me) {
        return null;
      }
      if (me.needs.contains(ahead.shortOf())) {
        return ahead.shortOf();
      }
    }
    return null;
  }

  /** Something a call held was given back: waiters try again. Cheap; never blocks for long. */
  public void released() {
    synchronized (lock) {
      releases++;
      lock.notifyAll();
    }
  }

  /** Wakes every waiter to check whether it was cancelled. */
  public void wake() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Calls waiting now, for anything. */
  public int queued() {
    synchronized (lock) {
      return waiting(null);
    }
  }

  /** The figures of calls that waited for {@code resource}. */
  public Status status(Resource resource) {
    synchronized (lock) {
      return new Status(
          waiting(resource), waits.getOrDefault(resource, 0L), refused.getOrDefault(resource, 0L));
    }
  }

  private static final class Waiter {
    final Set<Resource> needs;
    // What it waits for: what it was short of at its last try, or before its first what the
    // waiter ahead that blocks it waits for; null before it had to wait.
    Resource shortOf;
    // Whether it has tried, and the releases count at its last try.
    boolean tried;
    long triedAt;
    // Whether it has joined the waiting (counted against the queue bound).
    boolean waited;

    Waiter(Set<Resource> needs) {
      this.needs = needs;
    }

    /** What it waits for: what it was short of, or memory (which every call needs) before a try. */
    Resource shortOf() {
      return shortOf == null ? Resource.MEMORY : shortOf;
    }
  }
}
