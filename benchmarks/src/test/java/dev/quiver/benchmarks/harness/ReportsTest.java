package dev.quiver.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON and text reports, the regression compare and the HTML trend. */
class ReportsTest {
  @TempDir Path dir;

  private static RunResult run(double seconds, long p99Nanos) {
    return new RunResult(
        seconds,
        1_000_000,
        100_000_000,
        16,
        new RunResult.Latency(1_000_000, 2_000_000, p99Nanos, p99Nanos * 2));
  }

  private static BenchReport report(String commit, Instant started, RunResult... runs) {
    return new BenchReport(
        started,
        commit,
        Map.of("host", "h<1>", "cores", 2),
        BenchOptions.parse(List.of("--mode", "get", "--schema", "mixed")).describe(),
        "quiver",
        Optional.of(123_000_000L),
        List.of(runs));
  }

  private Path save(String name, BenchReport report) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, report.toJson(), StandardCharsets.UTF_8);
    return file;
  }

  @Test
  void jsonHoldsCommitMachineConfigRunsAndSummary() throws Exception {
    BenchReport report =
        report(
            "abc123",
            Instant.parse("2026-11-24T12:00:00Z"),
            run(1.0, 3_000_000),
            run(2.0, 5_000_000),
            run(4.0, 4_000_000));

    JsonNode json = new ObjectMapper().readTree(report.toJson());

    assertThat(json.path("format").asInt()).isEqualTo(BenchReport.FORMAT);
    assertThat(json.path("commit").asText()).isEqualTo("abc123");
    assertThat(json.path("started").asText()).isEqualTo("2026-11-24T12:00:00Z");
    assertThat(json.path("machine").path("cores").asInt()).isEqualTo(2);
    assertThat(json.path("config").path("mode").asText()).isEqualTo("get");
    assertThat(json.path("config").path("schema").asText()).isEqualTo("mixed");
    assertThat(json.path("server").path("kind").asText()).isEqualTo("quiver");
    assertThat(json.path("server").path("peak_memory_bytes").asLong()).isEqualTo(123_000_000L);
    assertThat(json.path("runs")).hasSize(3);
    assertThat(json.path("runs").get(0).path("mb_per_s").asDouble()).isEqualTo(100.0);
    assertThat(json.path("runs").get(1).path("latency_p99_ms").asDouble()).isEqualTo(5.0);
    JsonNode mb = json.path("summary").path("mb_per_s");
    assertThat(mb.path("median").asDouble()).isEqualTo(50.0);
    assertThat(mb.path("min").asDouble()).isEqualTo(25.0);
    assertThat(mb.path("max").asDouble()).isEqualTo(100.0);
    assertThat(mb.path("spread").asDouble()).isCloseTo(1.5, within(1e-12));
    assertThat(json.path("summary").path("latency_p99_ms").path("median").asDouble())
        .isEqualTo(4.0);
    assertThat(json.path("summary").fieldNames())
        .toIterable()
        .containsExactlyElementsOf(BenchReport.FIGURES.keySet());
  }

  @Test
  void readRefusesFilesThatAreNotResults() throws Exception {
    Path other = Files.writeString(dir.resolve("other.json"), "{\"format\": 99}");

    assertThatThrownBy(() -> BenchReport.read(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(other + " is not a quiver-bench report (format 1)");
  }

  @Test
  void textShowsEveryRunAndTheSummary() {
    String text =
        report("abc123", Instant.EPOCH, run(1.0, 3_000_000), run(2.0, 3_000_000)).toText();

    assertThat(text)
        .contains("quiver-bench get mixed against grpc://127.0.0.1:8815 (quiver), commit abc123")
        .contains("4 streams x 10,000,000 rows in batches of 65,536 on 1 threads")
        .contains("median")
        .contains("spread (max-min)/median: MB/s 66.7%")
        .contains("server peak Arrow memory: 123.0 MB");
    assertThat(text.lines().filter(l -> l.matches("^[12] .*"))).hasSize(2);
  }

  @Test
  void compareFlagsAThroughputDropBeyondTheNoise() throws Exception {
    Path baseline =
        save(
            "base.json",
            report(
                "a",
                Instant.EPOCH,
                run(1.00, 3_000_000),
                run(1.05, 3_000_000),
                run(1.10, 3_000_000)));
    Path slower =
        save(
            "slow.json",
            report(
                "b",
                Instant.EPOCH,
                run(1.50, 3_000_000),
                run(1.55, 3_000_000),
                run(1.60, 3_000_000)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            List.of("compare", baseline.toString(), slower.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err);

    assertThat(exit).isEqualTo(QuiverBench.REGRESSION);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .containsPattern("mb_per_s .* REGRESSION")
        .containsPattern("latency_p99_ms .* same")
        .contains("figure(s) worse beyond their noise");
  }

  @Test
  void compareAcceptsAChangeWithinTheNoise() throws Exception {
    Path baseline =
        save(
            "base.json",
            report(
                "a", Instant.EPOCH, run(1.0, 3_000_000), run(1.3, 3_000_000), run(1.6, 3_000_000)));
    Path current =
        save(
            "cur.json",
            report(
                "b", Instant.EPOCH, run(1.2, 3_000_000), run(1.4, 3_000_000), run(1.5, 3_000_000)));

    List<Regression.Verdict> verdicts =
        Regression.compare(BenchReport.read(baseline), BenchReport.read(current), 0);

    assertThat(verdicts).noneMatch(Regression.Verdict::regressed);
    assertThat(
            QuiverBench.run(
                List.of("compare", baseline.toString(), current.toString()),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                System.err))
        .isEqualTo(QuiverBench.OK);
  }

  @Test
  void compareFlagsALatencyRiseAndAppliesTheMinimumChange() throws Exception {
    JsonNode baseline =
        BenchReport.read(
            save(
                "base.json", report("a", Instant.EPOCH, run(1.0, 3_000_000), run(1.0, 3_000_000))));
    JsonNode current =
        BenchReport.read(
            save("cur.json", report("b", Instant.EPOCH, run(1.0, 3_300_000), run(1.0, 3_300_000))));

    assertThat(Regression.compare(baseline, current, 0))
        .filteredOn(v -> v.figure().equals("latency_p99_ms"))
        .singleElement()
        .satisfies(v -> assertThat(v.regressed()).isTrue());
    assertThat(Regression.compare(baseline, current, 0.2))
        .filteredOn(v -> v.figure().equals("latency_p99_ms"))
        .singleElement()
        .satisfies(v -> assertThat(v.regressed()).isFalse());
  }

  @Test
  void compareRefusesResultsOfDifferentMeasurements() throws Exception {
    Path get = save("get.json", report("a", Instant.EPOCH, run(1.0, 1)));
    BenchReport put =
        new BenchReport(
            Instant.EPOCH,
            "b",
            Map.of(),
            BenchOptions.parse(List.of("--mode", "put", "--schema", "mixed")).describe(),
            "quiver",
            Optional.empty(),
            List.of(run(1.0, 1)));
    Path putFile = save("put.json", put);

    assertThatThrownBy(
            () -> Regression.compare(BenchReport.read(get), BenchReport.read(putFile), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The results measure different things: config.mode is \"get\" and \"put\"");
  }

  @Test
  void trendIsOneSelfContainedHtmlFileWithAChartPerFigure() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    save(
        "results/1.json",
        report("1111111111aa", Instant.parse("2026-11-01T00:00:00Z"), run(1.0, 3_000_000)));
    save(
        "results/2.json",
        report("2222222222bb", Instant.parse("2026-11-02T00:00:00Z"), run(0.5, 2_000_000)));
    Files.writeString(results.resolve("junk.json"), "{}");
    Path html = dir.resolve("trend.html");
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            List.of("trend", html.toString(), results.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err);

    assertThat(exit).isEqualTo(QuiverBench.OK);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("Skipping")
        .contains("Trend of 2 results");
    String page = Files.readString(html);
    assertThat(page)
        .startsWith("<!DOCTYPE html>")
        .contains("get mixed, quiver server, 4 x 10,000,000 rows, batches of 65,536")
        .contains("aria-label=\"mb_per_s\"")
        .contains("aria-label=\"latency_p99_ms\"")
        .contains("11111111")
        .contains("22222222")
        .contains("h&lt;1&gt;")
        .doesNotContain("<script")
        .doesNotContain("http://cdn")
        .doesNotContain("https://");
    assertThat(page.split("<svg ", -1)).hasSize(3);
    // Oldest first: the first commit's point sits left of the second's.
    assertThat(page.indexOf("11111111")).isLessThan(page.indexOf("22222222"));
  }
}
