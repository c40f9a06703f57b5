package dev.quiver.benchmarks;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.flight.OutboundStreamListener;

/**
 * Waits for a DoPut stream to take the next batch without burning a core: Arrow's putNext spins on
 * isReady(), which on two cores steals the server's CPU.
 */
public final class PutReadiness {
  /** The longest a stream may stay not ready before the wait fails. */
  public static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

  private PutReadiness() {}

  /**
   * Returns once {@code put} is ready, parking with a back-off from 20 us to 2 ms.
   *
   * @throws IllegalStateException when the stream stays not ready for 30 s
   */
  public static void await(OutboundStreamListener put) {
    long deadline = System.nanoTime() + STALL_NANOS;
    long pause = 20_000;
    while (!put.isReady()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("DoPut stream not ready for 30 s");
      }
      LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, 2_000_000);
    }
  }
}
