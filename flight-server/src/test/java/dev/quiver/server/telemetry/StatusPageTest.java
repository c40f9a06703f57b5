package dev.quiver.server.telemetry;

import static dev.quiver.server.telemetry.TelemetryFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.TableId;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live status page, loaded in a real headless Chromium after some traffic, shows the figures
 * and the calls; the test saves a screenshot to target/status-page.png.
 *
 * <p>Chromium is Debian's {@code chromium} package (.ci/run installs it). Without it the test is
 * skipped on a developer's machine and fails in CI (the CI variable is set).
 */
class StatusPageTest extends TelemetryServerTest {
  @Override
  Map<String, String> serverFlags() {
    // Small scan batches, so a DoGet of a big table is a long stream.
    return Map.of("scan.batch-rows", "1024");
  }

  private static final TableId ORDERS = TableId.of("sales", "orders");
  private static final long BROWSER_SECONDS = 90;

  @TempDir Path profile;

  @Test
  void statusJsonListsActiveAndRecentCalls(BufferAllocator allocator) throws Exception {
    fixture.put(allocator, ORDERS, 2, 5000);
    await(() -> fixture.spans.getFinishedSpanItems().size() >= 1, "the put to end");
    JsonNode status = new ObjectMapper().readTree(fixture.get("/status.json"));
    // Arrow's share: memory.total 256MB less two 32MB DuckDB limits.
    assertThat(status.at("/memory/limit").asLong()).isEqualTo(192L << 20);
    assertThat(status.at("/totals/rows_in").asLong()).isEqualTo(10_000);
    JsonNode put = status.at("/recent/0");
    assertThat(put.get("method").asText()).isEqualTo("DoPut");
    assertThat(put.get("table").asText()).isEqualTo("sales.orders");
    assertThat(put.get("rows").asLong()).isEqualTo(10_000);
    assertThat(put.get("status").asText()).isEqualTo("OK");
    assertThat(put.get("peakMemory").asLong()).isPositive();
    assertThat(status.get("alerts").has("QuiverMemoryPressureHigh")).isTrue();
    assertThat(status.at("/nodes/0/uri").asText()).isEqualTo(fixture.server.uri());
    assertThat(status.at("/nodes/0/self").asBoolean()).isTrue();
    assertThat(status.at("/maintenance/enabled").asBoolean()).isTrue();
    assertThat(status.at("/maintenance/interval_ms").asLong()).isEqualTo(60_000);
    assertThat(status.at("/maintenance/runs").asLong()).as("the first run is a minute in").isZero();
  }

  @Test
  void pageRendersLiveFiguresInHeadlessChromium(BufferAllocator allocator) throws Exception {
    Optional<String> chromium = findChromium();
    if (chromium.isEmpty()) {
      if (System.getenv("CI") != null) {
        throw new AssertionError(
            "Chromium is not installed, but CI must run this test: install Debian's chromium"
                + " package (.ci/run does)");
      }
      Assumptions.abort(
          "Chromium not found on PATH (apt-get install chromium); skipping the status page test");
    }
    fixture.put(allocator, ORDERS, 40, 100_000);
    assertThat(fixture.scanCount(ORDERS)).isEqualTo(4_000_000);
    // One stream stays open (its client reads one batch and waits), so there is an active call.
    try (ArrowReader open = fixture.client.scan(ORDERS)) {
      assertThat(open.loadNextBatch()).isTrue();
      await(() -> fixture.spans.getFinishedSpanItems().size() >= 4, "the earlier calls to end");
      String url = "http://127.0.0.1:" + fixture.server.telemetryPort().getAsInt() + "/";

      String dom = run(chromium.get(), "--dump-dom", url);
      assertThat(dom).contains("<title>Quiver status</title>").contains("live · updated");
      // Out: the finished read and what the open stream has handed to gRPC so far.
      String[] rows = element(dom, "rows-total").replace(",", "").split(" / ");
      assertThat(Long.parseLong(rows[0])).isGreaterThan(4_000_000);
      assertThat(rows[1]).isEqualTo("4000000");
      assertThat(element(dom, "limit")).isEqualTo("192.0 MB"); // Arrow's share
      assertThat(element(dom, "pressure")).endsWith(" %").isNotEqualTo("–");
      assertThat(dom)
          .as("the active table lists the open DoGet")
          .containsPattern(
              "(?s)<table id=\"active\">.*data-table=\"sales.orders\".*RUNNING.*</table>");
      assertThat(dom)
          .as("recent calls list the put and the read")
          .containsPattern("(?s)<table id=\"recent\">.*DoPut.*sales.orders.*OK.*</table>")
          .containsPattern("(?s)<table id=\"recent\">.*DoGet.*4,000,000.*</table>");

      assertThat(dom)
          .as("the nodes table lists this node")
          .containsPattern("(?s)<table id=\"nodes\">.*\\(this node\\).*</table>");
      assertThat(dom).containsPattern("id=\"maintenance\"[^>]*>every 60 s · runs 0 ·");

      Path screenshot = Path.of("target", "status-page.png").toAbsolutePath();
      Files.deleteIfExists(screenshot);
      run(chromium.get(), "--screenshot=" + screenshot, url);
      assertThat(screenshot).exists();
      assertThat(Files.size(screenshot)).isGreaterThan(10_000);
    }
  }

  /** The text of the element with {@code id} in {@code dom}. */
  private static String element(String dom, String id) {
    String open = "id=\"" + id + "\">";
    int start = dom.indexOf(open);
    assertThat(start).as("element %s in the page", id).isNotNegative();
    start += open.length();
    return dom.substring(start, dom.indexOf('<', start));
  }

  private String run(String chromium, String output, String url) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(chromium);
    command.add("--headless");
    command.add("--no-sandbox"); // CI runs as root
    command.add("--disable-gpu");
    command.add("--disable-dev-shm-usage");
    command.add("--user-data-dir=" + profile);
    command.add("--window-size=1400,1100");
    // Lets the page poll /status.json a few times before the DOM or screenshot is taken.
    command.add("--virtual-time-budget=4000");
    command.add(output);
    command.add(url);
    Path out = Files.createTempFile(profile, "chromium", ".out");
    Path err = Files.createTempFile(profile, "chromium", ".err");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      if (!process.waitFor(BROWSER_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError(
            "Chromium did not finish in " + BROWSER_SECONDS + " s: " + tail(err));
      }
      assertThat(process.exitValue()).as("chromium exit status; stderr: %s", tail(err)).isZero();
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      process.destroyForcibly();
      process.descendants().forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static String tail(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
  }

  /** Debian's chromium, or another Chromium on PATH; CHROMIUM names one explicitly. */
  static Optional<String> findChromium() {
    String explicit = System.getenv("CHROMIUM");
    if (explicit != null && new File(explicit).canExecute()) {
      return Optional.of(explicit);
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : path.split(File.pathSeparator)) {
        File candidate = new File(dir, name);
        if (candidate.canExecute()) {
          return Optional.of(candidate.getPath());
        }
      }
    }
    return Optional.empty();
  }
}
