package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * The {@code telemetry.*} part of {@link ServerConfig}: whether spans and metrics are recorded, and
 * where the telemetry HTTP endpoint (Prometheus {@code /metrics} and the status page) listens.
 *
 * <p>Exporters to backends are not configured here: the OpenTelemetry SDK reads the standard {@code
 * OTEL_*} environment variables (see docs/architecture.md, Observability).
 *
 * @param enabled whether the server records spans and metrics at all
 * @param host address the telemetry HTTP endpoint binds
 * @param port port of the telemetry HTTP endpoint; empty means no endpoint, 0 picks a free port
 * @param alertInterval how often the server evaluates its alert rules
 */
public record TelemetrySettings(
    boolean enabled, String host, OptionalInt port, Duration alertInterval) {
  /** Spans and metrics on, no HTTP endpoint, alerts evaluated every 15 s. */
  public static final TelemetrySettings DEFAULTS =
      new TelemetrySettings(true, "127.0.0.1", OptionalInt.empty(), Duration.ofSeconds(15));

  public TelemetrySettings {
    requireNonNull(host, "host is null");
    requireNonNull(port, "port is null");
    requireNonNull(alertInterval, "alertInterval is null");
    port.ifPresent(
        p -> {
          if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("Telemetry port out of range: " + p);
          }
        });
    if (alertInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("Alert interval must be positive: " + alertInterval);
    }
  }

  /** These settings with telemetry turned off (no spans, no metrics, no endpoint). */
  public TelemetrySettings disabled() {
    return new TelemetrySettings(false, host, OptionalInt.empty(), alertInterval);
  }
}
