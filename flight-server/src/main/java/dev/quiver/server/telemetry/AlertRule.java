package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * One alert rule, written twice on purpose: as PromQL for Prometheus (the shipped rules file,
 * ops/prometheus/quiver-alerts.yml, holds exactly these expressions; a test checks it) and as a
 * condition the server evaluates itself over its own recent samples.
 *
 * @param name the alert's name, e.g. QuiverMemoryPressureHigh
 * @param summary one line for the log and the rules file
 * @param expr the PromQL expression, over the exported metric names
 * @param holdFor how long the condition must hold before the alert fires ({@code for:})
 * @param condition the same condition over the server's samples
 */
record AlertRule(
    String name,
    String summary,
    String expr,
    Duration holdFor,
    Predicate<AlertEvaluator.Window> condition) {
  /** The window rates are computed over, as the {@code [5m]} in the expressions. */
  static final Duration RATE_WINDOW = Duration.ofMinutes(5);

  static final double HIGH_PRESSURE = 0.9;
  static final double ERROR_RATIO = 0.05;
  static final double STALLED_STREAMS = 0.5;

  AlertRule {
    requireNonNull(name, "name is null");
    requireNonNull(summary, "summary is null");
    requireNonNull(expr, "expr is null");
    requireNonNull(holdFor, "holdFor is null");
    requireNonNull(condition, "condition is null");
  }

  /** The rules Quiver ships. */
  static final List<AlertRule> RULES =
      List.of(
          new AlertRule(
              "QuiverMemoryPressureHigh",
              "Arrow memory in use is above 90% of memory.total",
              "quiver_memory_pressure > " + HIGH_PRESSURE,
              Duration.ofMinutes(2),
              w -> w.pressure() > HIGH_PRESSURE),
          new AlertRule(
              "QuiverAdmissionQueueBuilding",
              "Calls are waiting for memory admission",
              "quiver_admission_queue_length > 0",
              Duration.ofMinutes(1),
              w -> w.queued() > 0),
          new AlertRule(
              "QuiverErrorRateHigh",
              "More than 5% of Flight calls fail (cancellations excluded)",
              "sum(rate(quiver_call_duration_seconds_count{status!~\"OK|CANCELLED\"}[5m]))"
                  + " / sum(rate(quiver_call_duration_seconds_count[5m])) > "
                  + ERROR_RATIO,
              Duration.ofMinutes(2),
              w -> w.errorRatio() > ERROR_RATIO),
          new AlertRule(
              "QuiverClientsStalled",
              "DoGet streams spend much of their time waiting for slow clients",
              "rate(quiver_backpressure_stall_seconds_total[5m]) > " + STALLED_STREAMS,
              Duration.ofMinutes(2),
              w -> w.stallRate() > STALLED_STREAMS));
}
