package dev.quiver.benchmarks.harness;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on a terminal, redrawn every quarter second from a counter of rows moved.
 * Draws nothing until a run has taken a second, so short runs print no bar.
 */
final class Progress implements AutoCloseable {
  private static final int WIDTH = 30;
  private static final long DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final PrintStream out;
  private final ScheduledExecutorService timer;
  private volatile String title = "";
  private volatile long total = 1;
  private volatile long startNanos = System.nanoTime();
  private volatile boolean drawn;

  private Progress(PrintStream out, LongSupplier done) {
    this.out = out;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "quiver-bench-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(() -> draw(done.getAsLong()), 250, 250, TimeUnit.MILLISECONDS);
  }

  /** A bar on {@code out}, or a no-op when {@code enabled} is false. */
  static Progress start(boolean enabled, PrintStream out, LongSupplier done) {
    return enabled ? new Progress(out, done) : null;
  }

  /** Starts a new phase of {@code total} rows. */
  void phase(String name, long totalRows) {
    clear();
    title = name;
    total = Math.max(1, totalRows);
    startNanos = System.nanoTime();
  }

  /** The bar's text for {@code done} of {@code total} rows after {@code seconds}. */
  static String bar(String title, long done, long total, double seconds) {
    double share = Math.min(1, (double) done / total);
    int filled = (int) Math.round(share * WIDTH);
    return String.format(
        Locale.ROOT,
        "%-10s [%s%s] %3.0f%% %,d rows %.1f s",
        title,
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        share * 100,
        done,
        seconds);
  }

  private synchronized void draw(long done) {
    long elapsed = System.nanoTime() - startNanos;
    if (elapsed < DELAY_NANOS) {
      return;
    }
    out.print("\r" + bar(title, done, total, elapsed / 1e9));
    out.flush();
    drawn = true;
  }

  private synchronized void clear() {
    if (drawn) {
      out.print("\r" + " ".repeat(WIDTH + 60) + "\r");
      out.flush();
      drawn = false;
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    clear();
  }
}
