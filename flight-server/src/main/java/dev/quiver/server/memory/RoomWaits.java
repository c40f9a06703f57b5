package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * What running calls waited for Arrow memory: a stream (a DoGet, a Flight SQL result) takes its
 * next batch only once the server has room ({@link MemoryGovernor#awaitRoom}), and a call's
 * allocation that the budget refused waits for room before it fails. The memory report's {@code
 * room_waits}.
 */
@ThreadSafe
public final class RoomWaits {
  /**
   * The figures since the start.
   *
   * @param waiting calls waiting for room now
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

  synchronized void started() {
    waiting++;
  }

  /** A wait of {@code nanos} ended; {@code roomCame} false when it timed out. */
  synchronized void ended(long nanos, boolean roomCame) {
    waiting--;
    waits++;
    waitedNanos += nanos;
    longestNanos = Math.max(longestNanos, nanos);
    if (!roomCame) {
      refused++;
    }
  }

  synchronized Status status() {
    return new Status(waiting, waits, waitedNanos / 1_000_000, longestNanos / 1_000_000, refused);
  }
}
