package dev.quiver.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The in-server alert rules: hold times, one WARN and one count per episode, resolution. */
class AlertEvaluatorTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private InMemoryMetricReader reader;
  private SdkMeterProvider meters;
  private AlertEvaluator alerts;
  private long now = 1_000 * SECOND;
  private long calls;
  private long errors;
  private long stallNanos;

  @BeforeEach
  void start() {
    reader = InMemoryMetricReader.create();
    meters = SdkMeterProvider.builder().registerMetricReader(reader).build();
    alerts = new AlertEvaluator(AlertRule.RULES, meters.get("test"));
  }

  @AfterEach
  void stop() {
    alerts.close();
    meters.close();
  }

  /** Advances the clock by {@code seconds}, then evaluates a sample. */
  private String sample(int seconds, double pressure, int queued) {
    now += seconds * SECOND;
    return StdErr.capture(
        () ->
            alerts.evaluate(
                new AlertEvaluator.Sample(now, pressure, queued, calls, errors, stallNanos)));
  }

  private long metric(String name, String alert) {
    for (MetricData data : reader.collectAllMetrics()) {
      if (data.getName().equals(name)) {
        for (LongPointData point : data.getLongSumData().getPoints()) {
          if (point.getAttributes().equals(Attributes.of(AlertEvaluator.ALERT, alert))) {
            return point.getValue();
          }
        }
      }
    }
    throw new AssertionError("No " + name + " for " + alert);
  }

  @Test
  void pressureMustHoldForTwoMinutesAndFiresOncePerEpisode() {
    assertThat(sample(0, 0.95, 0)).isEmpty();
    assertThat(sample(60, 0.95, 0)).isEmpty();
    assertThat(alerts.firing()).containsEntry("QuiverMemoryPressureHigh", false);

    String fired = sample(60, 0.95, 0);
    assertThat(fired)
        .contains("WARN")
        .contains("Alert QuiverMemoryPressureHigh firing")
        .contains("quiver_memory_pressure > 0.9");
    assertThat(alerts.firing()).containsEntry("QuiverMemoryPressureHigh", true);
    assertThat(sample(15, 0.97, 0)).as("no second WARN within the episode").isEmpty();
    assertThat(metric("quiver.alerts", "QuiverMemoryPressureHigh")).isEqualTo(1);

    assertThat(sample(15, 0.5, 0))
        .contains("INFO")
        .contains("Alert QuiverMemoryPressureHigh resolved");
    assertThat(alerts.firing()).containsEntry("QuiverMemoryPressureHigh", false);

    // A dip resets the hold time; a new episode is counted again.
    sample(15, 0.95, 0);
    sample(100, 0.95, 0);
    assertThat(sample(20, 0.95, 0)).contains("Alert QuiverMemoryPressureHigh firing");
    assertThat(metric("quiver.alerts", "QuiverMemoryPressureHigh")).isEqualTo(2);
    assertThat(metric("quiver.alerts", "QuiverAdmissionQueueBuilding")).isZero();
  }

  @Test
  void admissionQueueFiresAfterAMinute() {
    sample(0, 0.1, 3);
    assertThat(sample(59, 0.1, 2)).isEmpty();
    assertThat(sample(1, 0.1, 1)).contains("Alert QuiverAdmissionQueueBuilding firing");
  }

  @Test
  void errorRateIsFailedOverAllCallsInTheWindow() {
    sample(0, 0, 0);
    calls = 100;
    errors = 4;
    sample(60, 0, 0);
    assertThat(alerts.firing()).containsEntry("QuiverErrorRateHigh", false);
    for (int i = 0; i < 3; i++) {
      calls += 100;
      errors += 10;
      sample(60, 0, 0);
    }
    assertThat(alerts.firing()).containsEntry("QuiverErrorRateHigh", true);
    assertThat(metric("quiver.alerts", "QuiverErrorRateHigh")).isEqualTo(1);
  }

  @Test
  void clientsStalledIsStallSecondsPerSecond() {
    sample(0, 0, 0);
    for (int i = 0; i < 8; i++) {
      stallNanos += Duration.ofSeconds(45).toNanos(); // 0.75 streams waiting on average
      sample(60, 0, 0);
    }
    assertThat(alerts.firing()).containsEntry("QuiverClientsStalled", true);
    for (int i = 0; i < 6; i++) {
      sample(60, 0, 0); // no more stalls: the 5-minute rate falls to zero
    }
    assertThat(alerts.firing()).containsEntry("QuiverClientsStalled", false);
  }
}
