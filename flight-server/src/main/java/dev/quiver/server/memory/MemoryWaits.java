package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.function.BooleanSupplier;

/**
 * Waits of running calls for Arrow memory, and their figures for the memory report: a stream (a
 * DoGet, a Flight SQL result) takes its next batch only once the server has room ({@link
 * MemoryGovernor#awaitRoom}), a call's allocation that the budget refused waits for room before it
 * fails ({@code room_waits}), and Flight's decoder waits for room for a put's batch ({@code
 * upload_pacing}).
 */
@ThreadSafe
public final class MemoryWaits {
  /**
   * The figures since the start.
   *
   * @param waiting waits going on now
   * @param waits waits so far
   * @param waitedMillis the time all those waits took together
   * @param longestMillis the longest one wait
   * @param refused waits that ended without room (memory.admission-timeout), failing their call
   */
  public record Status(
      int waiting, long waits, long waitedMillis, long longestMillis, long refused) {}

  @GuardedBy("this")
  private int waiting;

  @GuardedBy("this")
  private long waits;

  @GuardedBy("this")
  private long waitedNanos;

  @GuardedBy("this")
  private long longestNanos;

  @GuardedBy("this")
  private long refused;

  /**
   * Waits on {@code releases} until {@code room} holds, at most {@code timeoutMillis}, counting the
   * wait; true if room came. {@code room} must only read (see {@link ReleaseSignal#await}).
   */
  boolean await(ReleaseSignal releases, BooleanSupplier room, long timeoutMillis)
      throws InterruptedException {
    synchronized (this) {
      waiting++;
    }
    long start = System.nanoTime();
    boolean came = false;
    try {
      came = releases.await(room, timeoutMillis);
      return came;
    } finally {
      ended(System.nanoTime() - start, came);
    }
  }

  private synchronized void ended(long nanos, boolean came) {
    waiting--;
    waits++;
    waitedNanos += nanos;
    longestNanos = Math.max(longestNanos, nanos);
    if (!came) {
      refused++;
    }
  }

  synchronized Status status() {
    return new Status(waiting, waits, waitedNanos / 1_000_000, longestNanos / 1_000_000, refused);
  }
}
