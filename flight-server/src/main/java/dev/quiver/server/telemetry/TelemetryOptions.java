package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.sdk.trace.SpanProcessor;
import java.util.List;
import java.util.Map;

/**
 * What an embedding program (a test, a benchmark) adds to the telemetry the {@code OTEL_*}
 * environment configures.
 *
 * @param otelProperties OpenTelemetry SDK properties ({@code otel.exporter.otlp.endpoint}, ...)
 *     that override the environment and system properties
 * @param spanProcessors span processors added to the SDK's tracer provider (an in-memory exporter
 *     in tests); the telemetry shuts them down with the SDK
 */
public record TelemetryOptions(
    Map<String, String> otelProperties, List<SpanProcessor> spanProcessors) {
  /** Nothing added: the environment alone decides. */
  public static final TelemetryOptions DEFAULT = new TelemetryOptions(Map.of(), List.of());

  public TelemetryOptions {
    otelProperties = Map.copyOf(requireNonNull(otelProperties, "otelProperties is null"));
    spanProcessors = List.copyOf(requireNonNull(spanProcessors, "spanProcessors is null"));
  }
}
