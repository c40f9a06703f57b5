package dev.quiver.benchmarks;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.telemetry.TelemetryOptions;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The telemetry settings a benchmark's in-process server runs with, by name: {@code off}
 * (telemetry.enabled=false: no spans, no metrics) or {@code on} (spans and metrics exported over
 * OTLP to an endpoint where nothing listens, and the Prometheus endpoint on a free port), so the
 * cost of telemetry, backends failing included, shows as the difference.
 */
final class TelemetryVariant {
  /** A loopback port nothing listens on: every OTLP export fails with connection refused. */
  static final String UNREACHABLE_OTLP = "http://127.0.0.1:9";

  private TelemetryVariant() {}

  /** Starts a server with {@code flags} and the telemetry {@code variant} names. */
  static QuiverServer start(String variant, Map<String, String> flags) throws IOException {
    Map<String, String> all = new HashMap<>(flags);
    TelemetryOptions options = TelemetryOptions.DEFAULT;
    switch (variant) {
      case "off" -> all.put("telemetry.enabled", "false");
      case "on" -> {
        all.put("telemetry.enabled", "true");
        all.put("telemetry.prometheus-port", "0");
        options =
            new TelemetryOptions(
                Map.of(
                    "otel.exporter.otlp.endpoint", UNREACHABLE_OTLP,
                    "otel.exporter.otlp.protocol", "http/protobuf",
                    // Export often, so failing exports happen during the measurement.
                    "otel.bsp.schedule.delay", "200",
                    "otel.metric.export.interval", "1000"),
                List.of());
      }
      default ->
          throw new IllegalArgumentException("telemetry must be off or on, not '" + variant + "'");
    }
    return QuiverServer.start(ServerConfig.load(Map.of(), Map.of(), all), options);
  }
}
