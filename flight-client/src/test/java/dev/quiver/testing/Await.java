package dev.quiver.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting in tests for something another thread does: a condition polled against a deadline. */
public final class Await {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private Await() {}

  /** Polls {@code condition} every 5 ms until it holds; fails naming {@code what} after 30 s. */
  public static void until(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out waiting for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(5); // poll interval; the deadline bounds the wait
    }
  }

  /** Waits for {@code thread} to end; fails naming it after 30 s. */
  public static void join(Thread thread) throws InterruptedException {
    thread.join(DEADLINE.toMillis());
    if (thread.isAlive()) {
      throw new AssertionError("Timed out waiting for thread " + thread.getName() + " to end");
    }
  }
}
