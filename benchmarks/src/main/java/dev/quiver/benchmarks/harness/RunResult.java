package dev.quiver.benchmarks.harness;

/**
 * What one measured run moved and how long it took.
 *
 * @param seconds wall time from the first stream's start to the last stream's end
 * @param rows rows moved by all streams
 * @param bytes bytes of Arrow buffers moved (validity, offsets and data; no IPC metadata)
 * @param batches record batches moved
 * @param latencyNanos per-batch latency percentiles in nanoseconds
 */
public record RunResult(double seconds, long rows, long bytes, long batches, Latency latencyNanos) {

  /**
   * Per-batch latency: for DoGet the wait for each batch to arrive, for DoPut the time to hand one
   * over (waiting for flow control included).
   */
  public record Latency(long p50, long p95, long p99, long max) {
    /** The percentiles of {@code sorted} (ascending, at least one sample). */
    public static Latency of(long[] sorted) {
      return new Latency(
          Stats.percentile(sorted, 50),
          Stats.percentile(sorted, 95),
          Stats.percentile(sorted, 99),
          sorted[sorted.length - 1]);
    }
  }

  /** Megabytes (10^6 bytes) per second. */
  public double megabytesPerSecond() {
    return bytes / 1e6 / seconds;
  }

  /** Mebibytes (2^20 bytes) per second. */
  public double mebibytesPerSecond() {
    return bytes / (double) (1 << 20) / seconds;
  }

  public double rowsPerSecond() {
    return rows / seconds;
  }

  public double batchesPerSecond() {
    return batches / seconds;
  }
}
