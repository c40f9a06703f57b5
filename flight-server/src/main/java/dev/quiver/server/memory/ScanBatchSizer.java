package dev.quiver.server.memory;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Picks the batch size for a new scan from the server's memory pressure: {@code scan.batch-rows}
 * while pressure is below {@code memory.high-pressure}, then fewer rows the closer the root gets to
 * {@code memory.total}, down to {@code scan.min-batch-rows} when it is full.
 *
 * <p>Smaller batches mean less Arrow memory per call in flight (Java batches and arrow-dataset's
 * decode buffers), so a loaded server degrades in speed before it refuses calls. Thread-safe;
 * pressure is read once per scan (two counters, no locks).
 */
public final class ScanBatchSizer {
  private final MemoryGovernor memory;
  private final int maxRows;
  private final int minRows;
  private final double highPressure;
  private final AtomicLong reducedScans = new AtomicLong();
  private volatile int lastRows;

  /**
   * A sizer between {@code minRows} and {@code maxRows}, shrinking above {@code highPressure} (a
   * fraction of memory.total, in (0, 1]).
   */
  public ScanBatchSizer(MemoryGovernor memory, int maxRows, int minRows, double highPressure) {
    this.memory = requireNonNull(memory, "memory is null");
    if (minRows < 1 || minRows > maxRows) {
      throw new IllegalArgumentException(
          "Need 1 <= min rows <= max rows, got " + minRows + " and " + maxRows);
    }
    if (!(highPressure > 0 && highPressure <= 1)) {
      throw new IllegalArgumentException("High pressure must be in (0, 1], got " + highPressure);
    }
    this.maxRows = maxRows;
    this.minRows = minRows;
    this.highPressure = highPressure;
    this.lastRows = maxRows;
  }

  /** The batch size for a scan starting now. */
  public int batchRows() {
    int rows = rowsAt(memory.pressure());
    if (rows < maxRows) {
      reducedScans.incrementAndGet();
    }
    lastRows = rows;
    return rows;
  }

  /** The batch size at {@code pressure}: linear from max at high pressure to min when full. */
  int rowsAt(double pressure) {
    if (pressure <= highPressure || highPressure >= 1) {
      return maxRows;
    }
    double headroom = Math.max(0, (1 - pressure) / (1 - highPressure));
    return (int) Math.max(minRows, Math.min(maxRows, Math.round(maxRows * headroom)));
  }

  /** What the memory report shows: the bounds, the threshold, the last choice, reductions. */
  public Stats stats() {
    return new Stats(maxRows, minRows, highPressure, lastRows, reducedScans.get());
  }

  /**
   * The sizer's state.
   *
   * @param maxRows scan.batch-rows
   * @param minRows scan.min-batch-rows
   * @param highPressure memory.high-pressure
   * @param lastRows the batch size the latest scan got
   * @param reducedScans scans that got fewer rows than scan.batch-rows
   */
  public record Stats(
      int maxRows, int minRows, double highPressure, int lastRows, long reducedScans) {}
}
