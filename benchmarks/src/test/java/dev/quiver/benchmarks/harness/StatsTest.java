package dev.quiver.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void percentilesOfOneToHundredAreTheirRank() {
    long[] samples = LongStream.rangeClosed(1, 100).toArray();

    assertThat(Stats.percentile(samples, 50)).isEqualTo(50);
    assertThat(Stats.percentile(samples, 95)).isEqualTo(95);
    assertThat(Stats.percentile(samples, 99)).isEqualTo(99);
    assertThat(Stats.percentile(samples, 100)).isEqualTo(100);
    assertThat(Stats.percentile(samples, 0.5)).isEqualTo(1);
  }

  @Test
  void percentilesUseTheNearestRankAboveAShare() {
    long[] samples = {10, 20, 30, 40};

    // ceil(0.5 * 4) = 2nd; ceil(0.95 * 4) = 4th; ceil(0.26 * 4) = 2nd.
    assertThat(Stats.percentile(samples, 50)).isEqualTo(20);
    assertThat(Stats.percentile(samples, 95)).isEqualTo(40);
    assertThat(Stats.percentile(samples, 26)).isEqualTo(20);
    assertThat(Stats.percentile(new long[] {7}, 99)).isEqualTo(7);
  }

  @Test
  void percentilesRefuseNoSamplesAndBadShares() {
    assertThatThrownBy(() -> Stats.percentile(new long[0], 50))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("No samples");
    assertThatThrownBy(() -> Stats.percentile(new long[] {1}, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Percentile must be in (0, 100], not 0.0");
    assertThatThrownBy(() -> Stats.percentile(new long[] {1}, 101))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Percentile must be in (0, 100], not 101.0");
  }

  @Test
  void medianOfOddAndEvenCounts() {
    assertThat(Stats.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(Stats.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    double[] values = {5, 1};
    Stats.median(values);
    assertThat(values).containsExactly(5, 1);
  }

  @Test
  void summarySpreadIsRangeOverMedian() {
    Stats.Summary summary = Stats.Summary.of(new double[] {90, 100, 120});

    assertThat(summary.median()).isEqualTo(100);
    assertThat(summary.min()).isEqualTo(90);
    assertThat(summary.max()).isEqualTo(120);
    assertThat(summary.spread()).isCloseTo(0.30, within(1e-12));
    assertThat(Stats.Summary.of(new double[] {5}).spread()).isZero();
    assertThat(Stats.Summary.of(new double[] {0, 0}).spread()).isZero();
  }

  @Test
  void latencyTakesP50P95P99AndMax() {
    long[] samples = LongStream.rangeClosed(1, 1000).toArray();

    assertThat(RunResult.Latency.of(samples)).isEqualTo(new RunResult.Latency(500, 950, 990, 1000));
  }

  @Test
  void runRatesDivideByTheWallTime() {
    RunResult run = new RunResult(2.0, 1000, 4_000_000, 10, new RunResult.Latency(1, 2, 3, 4));

    assertThat(run.megabytesPerSecond()).isEqualTo(2.0);
    assertThat(run.mebibytesPerSecond()).isCloseTo(4_000_000 / 1048576.0 / 2, within(1e-12));
    assertThat(run.rowsPerSecond()).isEqualTo(500);
    assertThat(run.batchesPerSecond()).isEqualTo(5);
  }
}
