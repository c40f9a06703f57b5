package dev.quiver.server.telemetry;

import static dev.quiver.server.telemetry.TelemetryFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus endpoint shows what calls did, and the shipped dashboard and alert rules use only
 * names it exposes.
 */
class MetricsTest extends TelemetryServerTest {
  private static final TableId ORDERS = TableId.of("sales", "orders");
  // Surefire runs in the module folder; ops/ is at the repository root.
  static final Path DASHBOARD = Path.of("..", "ops", "grafana", "quiver-dashboard.json");
  static final Path RULES = Path.of("..", "ops", "prometheus", "quiver-alerts.yml");
  private static final Pattern METRIC = Pattern.compile("\\b(?:quiver|jvm)_[a-z0-9_]+");
  private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\([^)]*\\)");
  private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*\\}");
  private static final Pattern RULE_EXPR = Pattern.compile("(?m)^\\s+expr: '(.*)'$");

  private Scrape scrape() throws Exception {
    return new Scrape(fixture.get("/metrics"));
  }

  /** Puts and reads back 10,000 rows, then waits until the server has recorded all three calls. */
  private PutReceipt traffic(BufferAllocator allocator) throws Exception {
    PutReceipt receipt = fixture.put(allocator, ORDERS, 2, 5000);
    assertThat(fixture.scanCount(ORDERS)).isEqualTo(10_000);
    // The server records a call when it ends, just after the client has seen the end.
    await(() -> fixture.spans.getFinishedSpanItems().size() >= 3, "three calls to end");
    return receipt;
  }

  @Test
  void afterAPutAndAGetTheCountersShowTheirRowsAndBytes(BufferAllocator allocator)
      throws Exception {
    Scrape before = scrape();
    assertThat(before.value("quiver_rows_in_total")).isZero();
    assertThat(before.value("quiver_commits_total")).isZero();

    traffic(allocator);
    assertThatThrownBy(() -> fixture.client.scan(TableId.of("sales", "missing")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
        .hasMessageContaining("sales.missing");
    await(() -> fixture.spans.getFinishedSpanItems().size() >= 4, "the failed call to end");

    Scrape after = scrape();
    // 10,000 int64 values and their validity bitmaps, each way.
    long arrowBytes = 10_000 * 8 + 2 * (5000 / 8);
    assertThat(after.value("quiver_rows_in_total")).isEqualTo(10_000);
    assertThat(after.value("quiver_rows_out_total")).isEqualTo(10_000);
    assertThat(after.value("quiver_data_in_bytes_total")).isEqualTo(arrowBytes);
    assertThat(after.value("quiver_data_out_bytes_total")).isEqualTo(arrowBytes);
    assertThat(after.value("quiver_commits_total")).isEqualTo(1);
    assertThat(after.value("quiver_commit_conflicts_total")).isZero();
    assertThat(after.value("quiver_commit_retries_total")).as("one writer never retries").isZero();
    assertThat(after.value("quiver_call_duration_seconds_count", "method", "DoPut", "status", "OK"))
        .isEqualTo(1);
    assertThat(after.value("quiver_call_duration_seconds_count", "method", "DoGet", "status", "OK"))
        .isEqualTo(1);
    assertThat(
            after.value(
                "quiver_call_duration_seconds_count", "method", "GetFlightInfo", "status", "OK"))
        .isEqualTo(1);
    assertThat(
            after.value(
                "quiver_call_duration_seconds_count",
                "method",
                "GetFlightInfo",
                "status",
                "NOT_FOUND"))
        .isEqualTo(1);
    assertThat(after.value("quiver_calls_active", "method", "DoGet")).isZero();
    assertThat(after.value("quiver_admission_wait_seconds_count", "method", "DoPut")).isEqualTo(1);
    // Arrow's share: memory.total 256MB less two 32MB DuckDB limits.
    assertThat(after.value("quiver_memory_limit_bytes")).isEqualTo(192L << 20);
    assertThat(after.value("quiver_memory_allocated_bytes")).isZero();
    assertThat(after.value("quiver_memory_pressure")).isZero();
    assertThat(after.value("quiver_admission_queue_length")).isZero();
    assertThat(
            after.value(
                "jvm_thread_count", "jvm_thread_daemon", "true", "jvm_thread_state", "runnable"))
        .isPositive();
  }

  @Test
  void dashboardAndAlertRulesUseOnlyNamesTheScrapeExposes(BufferAllocator allocator)
      throws Exception {
    traffic(allocator);
    // GC metrics are recorded per collection; make sure there has been one.
    System.gc();
    await(
        () -> {
          try {
            return scrape().names().contains("jvm_gc_duration_seconds_count");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        },
        "a GC to be recorded");
    Set<String> live = scrape().names();

    Set<String> dashboard = metricNames(dashboardExpressions());
    Set<String> rules = metricNames(ruleExpressions());
    assertThat(dashboard)
        .as("the dashboard's metric names")
        .contains(
            "quiver_call_duration_seconds_bucket",
            "quiver_memory_pressure",
            "jvm_memory_used_bytes")
        .hasSizeGreaterThan(15);
    assertThat(rules).as("the rules' metric names").hasSize(4);
    assertThat(live).as("names in the live scrape").containsAll(dashboard).containsAll(rules);
  }

  @Test
  void theRulesFileHoldsTheRulesTheServerEvaluates() throws Exception {
    String file = Files.readString(RULES);
    assertThat(ruleExpressions()).hasSameSizeAs(AlertRule.RULES);
    for (AlertRule rule : AlertRule.RULES) {
      assertThat(file)
          .as("rule %s in %s", rule.name(), RULES)
          .contains(
              "- alert: "
                  + rule.name()
                  + "\n        expr: '"
                  + rule.expr()
                  + "'\n        for: "
                  + rule.holdFor().toMinutes()
                  + "m\n")
          .contains("summary: '" + rule.summary() + "'");
    }
  }

  static List<String> dashboardExpressions() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> exprs = new ArrayList<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        exprs.add(target.get("expr").asText());
      }
    }
    return exprs;
  }

  static List<String> ruleExpressions() throws Exception {
    List<String> exprs = new ArrayList<>();
    Matcher m = RULE_EXPR.matcher(Files.readString(RULES));
    while (m.find()) {
      exprs.add(m.group(1));
    }
    return exprs;
  }

  /** The metric names a PromQL expression reads: label names in by(...) and {...} are not. */
  static Set<String> metricNames(List<String> exprs) {
    Set<String> names = new TreeSet<>();
    for (String expr : exprs) {
      String bare = MATCHERS.matcher(GROUPING.matcher(expr).replaceAll("")).replaceAll("");
      Matcher m = METRIC.matcher(bare);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }
}
