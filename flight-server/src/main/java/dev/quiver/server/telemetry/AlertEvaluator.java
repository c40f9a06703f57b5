package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongGauge;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates the {@link AlertRule}s inside the server over its own samples, so an operator without
 * Prometheus still hears about trouble: an alert that fires is logged at WARN once per episode (and
 * INFO when it resolves) and counted in {@code quiver_alerts_total{alert}}; {@code
 * quiver_alerts_firing{alert}} is 1 while it fires.
 *
 * <p>{@link #evaluate} is called with a sample at a time; samples older than the rate window are
 * dropped. Not thread-safe: one scheduler thread calls it; {@link #firing()} may be read from any
 * thread.
 */
final class AlertEvaluator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertEvaluator.class);
  static final AttributeKey<String> ALERT = AttributeKey.stringKey("alert");

  /**
   * What the server measured at one moment; counters are running totals since start.
   *
   * @param nanos System.nanoTime() of the sample
   */
  record Sample(
      long nanos, double pressure, int queued, long calls, long errors, long stallNanos) {}

  /** The newest sample and rates over the samples in the window. */
  record Window(Sample oldest, Sample newest) {
    double pressure() {
      return newest.pressure();
    }

    int queued() {
      return newest.queued();
    }

    /** Failed calls over calls in the window; 0 without calls (PromQL gives no result then). */
    double errorRatio() {
      long calls = newest.calls() - oldest.calls();
      return calls <= 0 ? 0 : (double) (newest.errors() - oldest.errors()) / calls;
    }

    /** Seconds of stall per second: how many streams on average wait for a slow client. */
    double stallRate() {
      long elapsed = newest.nanos() - oldest.nanos();
      return elapsed <= 0 ? 0 : (double) (newest.stallNanos() - oldest.stallNanos()) / elapsed;
    }
  }

  private final List<AlertRule> rules;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  // Per rule: when its condition started holding (nanos), absent while it does not hold.
  private final Map<String, Long> pendingSince = new HashMap<>();
  private final Map<String, Boolean> firing = new java.util.concurrent.ConcurrentHashMap<>();
  private final LongCounter fired;
  private final ObservableLongGauge firingGauge;

  AlertEvaluator(List<AlertRule> rules, Meter meter) {
    this.rules = List.copyOf(requireNonNull(rules, "rules is null"));
    this.fired =
        meter
            .counterBuilder("quiver.alerts")
            .setUnit("{alert}")
            .setDescription("Alert episodes the server's own rules fired, by alert")
            .build();
    for (AlertRule rule : this.rules) {
      // Zero from the start, so the series exists before the first episode.
      fired.add(0, Attributes.of(ALERT, rule.name()));
      firing.put(rule.name(), false);
    }
    this.firingGauge =
        meter
            .gaugeBuilder("quiver.alerts.firing")
            .ofLongs()
            .setUnit("{alert}")
            .setDescription("1 while the alert fires, by alert")
            .buildWithCallback(
                m ->
                    firing.forEach((name, on) -> m.record(on ? 1 : 0, Attributes.of(ALERT, name))));
  }

  /** Adds {@code sample} and updates every rule; logs and counts the alerts that start firing. */
  void evaluate(Sample sample) {
    samples.addLast(sample);
    long horizon = sample.nanos() - AlertRule.RATE_WINDOW.toNanos();
    while (samples.size() > 1 && samples.peekFirst().nanos() < horizon) {
      samples.removeFirst();
    }
    Window window = new Window(samples.peekFirst(), sample);
    for (AlertRule rule : rules) {
      update(rule, rule.condition().test(window), sample.nanos());
    }
  }

  private void update(AlertRule rule, boolean holds, long now) {
    if (!holds) {
      pendingSince.remove(rule.name());
      if (firing.put(rule.name(), false)) {
        LOG.info("Alert {} resolved: {}", rule.name(), rule.summary());
      }
      return;
    }
    long since = pendingSince.computeIfAbsent(rule.name(), k -> now);
    boolean due = now - since >= rule.holdFor().toNanos();
    if (due && !firing.get(rule.name())) {
      firing.put(rule.name(), true);
      fired.add(1, Attributes.of(ALERT, rule.name()));
      LOG.warn(
          "Alert {} firing: {} (for {}; {})",
          rule.name(),
          rule.summary(),
          format(rule.holdFor()),
          rule.expr());
    }
  }

  /** The alerts firing now, by name. */
  Map<String, Boolean> firing() {
    return Map.copyOf(firing);
  }

  private static String format(Duration duration) {
    return duration.toSeconds() % 60 == 0 ? duration.toMinutes() + "m" : duration.toSeconds() + "s";
  }

  @Override
  public void close() {
    firingGauge.close();
  }
}
