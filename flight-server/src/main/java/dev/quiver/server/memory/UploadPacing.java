package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * What uploads waited for Arrow memory: a put's incoming batch that does not fit waits in Flight's
 * decoder for calls to release memory instead of failing ({@link TransportListener}), and a put
 * decodes nothing ahead of its writer while memory is short. The memory report's {@code
 * upload_pacing}.
 */
@ThreadSafe
public final class UploadPacing {
  /**
   * The figures since the start.
   *
   * @param waiting incoming batches waiting for memory to be decoded into now
   * @param waits waits so far (one per batch that had to wait)
   * @param waitedMillis the time all those waits took together
   * @param longestMillis the longest one wait
   * @param readAheadsHeld times an upload's next message was not asked for ahead of its writer
   *     because memory was short
   */
  public record Status(
      int waiting, long waits, long waitedMillis, long longestMillis, long readAheadsHeld) {}

  @GuardedBy("this")
  private int waiting;

  @GuardedBy("this")
  private long waits;

  @GuardedBy("this")
  private long waitedNanos;

  @GuardedBy("this")
  private long longestNanos;

  @GuardedBy("this")
  private long readAheadsHeld;

  synchronized void started() {
    waiting++;
  }

  synchronized void ended(long nanos) {
    waiting--;
    waits++;
    waitedNanos += nanos;
    longestNanos = Math.max(longestNanos, nanos);
  }

  synchronized void readAheadHeld() {
    readAheadsHeld++;
  }

  synchronized Status status() {
    return new Status(
        waiting, waits, waitedNanos / 1_000_000, longestNanos / 1_000_000, readAheadsHeld);
  }
}
