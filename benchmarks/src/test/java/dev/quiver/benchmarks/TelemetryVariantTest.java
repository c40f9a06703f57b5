package dev.quiver.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TelemetryVariantTest {
  @ParameterizedTest
  @ValueSource(strings = {"off", "on"})
  void roundTripRunsWithTelemetryOffAndOn(String variant) throws Exception {
    QuiverRoundTripBenchmark benchmark = new QuiverRoundTripBenchmark();
    benchmark.shape = "int64x4";
    benchmark.loadBatches = 2;
    benchmark.putBatches = 1;
    benchmark.rowsPerBatch = 500;
    benchmark.telemetry = variant;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      assertThat(benchmark.doGet(counters)).isEqualTo(1000);
      assertThat(benchmark.doPut(counters).rows()).isEqualTo(500);
      benchmark.dropWrittenTables();
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(1500);
  }

  @Test
  void telemetryOnServesPrometheusAndOffServesNothing() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("quiver-telemetry-variant");
    Map<String, String> flags =
        Map.of("flight.port", "0", "storage.data-dir", dir.toString(), "memory.total", "256MB");
    try (var on = TelemetryVariant.start("on", flags)) {
      assertThat(on.telemetryPort()).isPresent();
    }
    try (var off = TelemetryVariant.start("off", flags)) {
      assertThat(off.telemetryPort()).isEmpty();
    }
    assertThatThrownBy(() -> TelemetryVariant.start("maybe", flags))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("telemetry must be off or on, not 'maybe'");
  }
}
