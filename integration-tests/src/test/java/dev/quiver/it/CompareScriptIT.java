package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The CI smoke run of the side-by-side script ({@code benchmarks/compare/compare.py --quick}): it
 * starts the real server jar and the pyarrow.flight reference server, loads both with the harness
 * ({@code benchmarks/bin/quiver-bench}), runs DoGet and DoPut against each and writes the ratios.
 * Small data, a few seconds; the figures are not checked, only that every step moved every row.
 */
class CompareScriptIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(5);
  private static final long ROWS = 20_000;

  @Test
  void compareScriptMeasuresBothServersAndWritesRatios() throws Exception {
    Path script = Paths.get(QuiverServerProcess.requiredProperty("quiver.compare.script"));
    Path requirements =
        Paths.get(QuiverServerProcess.requiredProperty("quiver.pytests.dir"))
            .resolve("requirements.txt");
    Path python = PythonVenv.ensure(requirements);
    Path logs = QuiverServerProcess.logsDir().toAbsolutePath();
    Path out = logs.resolve("compare-smoke.json");
    Path work = logs.resolve("compare-work");
    Files.deleteIfExists(out);
    ProcessBuilder builder =
        new ProcessBuilder(
            System.getProperty("quiver.python", "python3"),
            script.toString(),
            "--quick",
            "--python",
            python.toString(),
            "--out",
            out.toString(),
            "--work-dir",
            work.toString());
    int exit = run(builder, logs.resolve("compare.log"));

    assertThat(exit).as("compare.py exit code (see %s)", logs.resolve("compare.log")).isZero();
    JsonNode result = new ObjectMapper().readTree(out.toFile());
    for (String mode : new String[] {"get", "put"}) {
      JsonNode summary = result.path("summary").path(mode);
      assertThat(summary.path("ratio_median").asDouble()).as(mode + " ratio").isPositive();
      assertThat(summary.path("quiver_mb_per_s_median").asDouble()).isPositive();
      assertThat(summary.path("reference_mb_per_s_median").asDouble()).isPositive();
      for (String server : new String[] {"quiver", "reference"}) {
        JsonNode run =
            new ObjectMapper()
                .readTree(work.resolve(mode + "-" + server + "-1.json").toFile())
                .path("runs")
                .get(0);
        assertThat(run.path("rows").asLong()).as(mode + " rows from " + server).isEqualTo(ROWS);
      }
    }
  }

  /**
   * The smoke run of {@code benchmarks/compare/telemetry_cost.py --quick}: two servers from the
   * same build, telemetry on (OTLP to a dead endpoint, Prometheus on) and off, both measured.
   */
  @Test
  void telemetryCostScriptMeasuresBothSettings() throws Exception {
    Path script =
        Paths.get(QuiverServerProcess.requiredProperty("quiver.compare.script"))
            .resolveSibling("telemetry_cost.py");
    Path logs = QuiverServerProcess.logsDir().toAbsolutePath();
    Path out = logs.resolve("telemetry-cost-smoke.json");
    Path work = logs.resolve("telemetry-cost-work");
    Files.deleteIfExists(out);
    ProcessBuilder builder =
        new ProcessBuilder(
            System.getProperty("quiver.python", "python3"),
            script.toString(),
            "--quick",
            "--out",
            out.toString(),
            "--work-dir",
            work.toString());

    int exit = run(builder, logs.resolve("telemetry-cost.log"));

    assertThat(exit).as("telemetry_cost.py exit code (see telemetry-cost.log)").isZero();
    JsonNode result = new ObjectMapper().readTree(out.toFile());
    for (String mode : new String[] {"get", "put"}) {
      assertThat(result.path("summary").path(mode).path("ratio_median").asDouble())
          .as(mode + " ratio")
          .isPositive();
      for (String setting : new String[] {"on", "off"}) {
        JsonNode run =
            new ObjectMapper()
                .readTree(work.resolve(mode + "-" + setting + "-1.json").toFile())
                .path("runs")
                .get(0);
        assertThat(run.path("rows").asLong())
            .as(mode + " rows with telemetry " + setting)
            .isEqualTo(ROWS);
      }
    }
    assertThat(Files.readString(work.resolve("on.log")))
        .as("the telemetry-on server served Prometheus and tried the dead OTLP endpoint")
        .contains("Prometheus metrics http", "Failed to export");
  }

  /** Runs a script with the JDK running this test first on the PATH (the harness and servers). */
  private static int run(ProcessBuilder builder, Path log) throws Exception {
    Path javaBin = Paths.get(System.getProperty("java.home"), "bin");
    builder.environment().put("PATH", javaBin + File.pathSeparator + System.getenv("PATH"));
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    return ChildProcesses.run(builder, "[" + log.getFileName() + "] ", log, TIMEOUT);
  }
}
