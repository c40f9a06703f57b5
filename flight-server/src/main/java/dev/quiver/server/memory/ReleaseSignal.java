package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Lets threads wait for Arrow memory to be released: transport decodes waiting for room, calls
 * waiting for gRPC to let go of sent batches, shutdown. Every release signals it; cheap when no one
 * waits. Its monitor is never held while allocating.
 */
@ThreadSafe
final class ReleaseSignal {
  private final Object monitor = new Object();
  private final AtomicInteger waiters = new AtomicInteger();

  /**
   * Waits until {@code done} holds, checking it again at each release, for at most {@code
   * timeoutMillis}; true if it came. {@code done} runs under the monitor releases wait for: it must
   * only read (reference counts, allocated bytes), never release.
   */
  boolean await(BooleanSupplier done, long timeoutMillis) throws InterruptedException {
    if (done.getAsBoolean()) {
      return true;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    waiters.incrementAndGet();
    try {
      synchronized (monitor) {
        while (!done.getAsBoolean()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(monitor, left);
        }
        return true;
      }
    } finally {
      waiters.decrementAndGet();
    }
  }

  /** Memory was released: waiters check again. */
  void signal() {
    if (waiters.get() > 0) {
      synchronized (monitor) {
        monitor.notifyAll();
      }
    }
  }
}
