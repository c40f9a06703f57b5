package dev.quiver.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import java.nio.file.Path;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** How telemetry is configured, and that calls work with it off or with its backend down. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class TelemetryTest {
  private static final TableId ORDERS = TableId.of("sales", "orders");

  @TempDir Path dataDir;

  @Test
  void otlpExportIsOffUnlessAnEndpointOrExporterIsNamed() {
    assertThat(Telemetry.exportOnlyWhenAsked(DefaultConfigProperties.createFromMap(Map.of())))
        .containsEntry("otel.traces.exporter", "none")
        .containsEntry("otel.metrics.exporter", "none");
    assertThat(
            Telemetry.exportOnlyWhenAsked(
                DefaultConfigProperties.createFromMap(
                    Map.of("otel.exporter.otlp.endpoint", "http://collector:4318"))))
        .isEmpty();
    assertThat(
            Telemetry.exportOnlyWhenAsked(
                DefaultConfigProperties.createFromMap(
                    Map.of(
                        "otel.exporter.otlp.traces.endpoint", "http://collector:4318/v1/traces"))))
        .containsOnly(Map.entry("otel.metrics.exporter", "none"));
    assertThat(
            Telemetry.exportOnlyWhenAsked(
                DefaultConfigProperties.createFromMap(Map.of("otel.metrics.exporter", "logging"))))
        .containsOnly(Map.entry("otel.traces.exporter", "none"));
  }

  @Test
  void withTelemetryOffCallsWorkAndNothingIsRecorded(BufferAllocator allocator) throws Exception {
    try (TelemetryFixture fixture =
        new TelemetryFixture(allocator, dataDir, Map.of("telemetry.enabled", "false"))) {
      assertThat(fixture.server.telemetryPort()).isEmpty();
      fixture.put(allocator, ORDERS, 1, 100);
      assertThat(fixture.scanCount(ORDERS)).isEqualTo(100);
      assertThat(fixture.spans.getFinishedSpanItems()).isEmpty();
    }
  }

  @Test
  void anUnreachableOtlpBackendDoesNotBreakCalls(BufferAllocator allocator) throws Exception {
    Map<String, String> unreachable =
        Map.of(
            "otel.exporter.otlp.endpoint", "http://127.0.0.1:9",
            "otel.bsp.schedule.delay", "10",
            "otel.metric.export.interval", "100");
    try (TelemetryFixture fixture =
        new TelemetryFixture(allocator, dataDir, Map.of(), unreachable)) {
      for (int i = 0; i < 3; i++) {
        fixture.put(allocator, ORDERS, 2, 100);
      }
      assertThat(fixture.scanCount(ORDERS)).isEqualTo(3 * 2 * 100);
      // Spans still reach the in-memory processor; only the OTLP export fails.
      TelemetryFixture.await(
          () -> fixture.spans.getFinishedSpanItems().size() >= 5, "the calls' spans");
    }
  }
}
