package dev.quiver.benchmarks.harness;

import java.util.Arrays;

/** The statistics the harness reports: latency percentiles and summaries over runs. */
public final class Stats {
  private Stats() {}

  /**
   * The {@code p}-th percentile (0 < p <= 100) of {@code sorted} by the nearest-rank method: the
   * smallest sample with at least p% of the samples at or below it, so the answer is always a
   * measured value (as HdrHistogram and Arrow's flight-benchmark report them).
   *
   * @param sorted samples in ascending order, at least one
   */
  public static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      throw new IllegalArgumentException("No samples");
    }
    if (!(p > 0 && p <= 100)) {
      throw new IllegalArgumentException("Percentile must be in (0, 100], not " + p);
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(rank, 1) - 1];
  }

  /**
   * The median of {@code values}: the middle value, or the mean of the two middle ones.
   *
   * @param values at least one; not modified
   */
  public static double median(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("No values");
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  /**
   * A figure summarised over runs.
   *
   * @param median the median of the runs
   * @param min the smallest run
   * @param max the largest run
   */
  public record Summary(double median, double min, double max) {
    /** Summarises {@code values} (at least one). */
    public static Summary of(double[] values) {
      double median = Stats.median(values);
      double min = Arrays.stream(values).min().orElseThrow();
      double max = Arrays.stream(values).max().orElseThrow();
      return new Summary(median, min, max);
    }

    /**
     * The spread of the runs relative to their median, (max - min) / median: the noise this figure
     * was measured with (0 for a single run or a zero median).
     */
    public double spread() {
      return median == 0 ? 0 : (max - min) / Math.abs(median);
    }
  }
}
