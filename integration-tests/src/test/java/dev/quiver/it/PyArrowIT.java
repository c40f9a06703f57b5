package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the pyarrow.flight suite (integration-tests/src/test/python) with pytest against a real
 * server.
 *
 * <p>pytest's output streams to the console and to {@code target/it-logs/pytest.log}; its JUnit XML
 * report lands in {@code target/it-logs/pytest-junit.xml}. Pass extra pytest arguments with {@code
 * -Dquiver.pytest.args="-k roundtrip -x"}.
 */
@ExtendWith(QuiverServerExtension.class)
class PyArrowIT {
  /** The whole suite, 10-million-row test included, fits well inside this on two cores. */
  private static final Duration PYTEST_TIMEOUT = Duration.ofMinutes(20);

  /** pytest's exit code when it collected no tests, which must fail the build too. */
  private static final int NO_TESTS_COLLECTED = 5;

  private static Path pytests;
  private static Path python;

  @BeforeAll
  static void createVenv() throws Exception {
    pytests = Paths.get(QuiverServerProcess.requiredProperty("quiver.pytests.dir"));
    python = PythonVenv.ensure(pytests.resolve("requirements.txt"));
  }

  @Test
  void pyarrowSuitePassesAgainstTheRealServer(QuiverServerProcess server) throws Exception {
    Path logs = QuiverServerProcess.logsDir();
    List<String> command =
        new ArrayList<>(
            List.of(
                python.toString(),
                "-m",
                "pytest",
                "-q",
                "-rfEs",
                "-p",
                "no:cacheprovider",
                "--junitxml=" + logs.resolve("pytest-junit.xml").toAbsolutePath(),
                pytests.toString()));
    String extra = System.getProperty("quiver.pytest.args", "").trim();
    if (!extra.isEmpty()) {
      command.addAll(Arrays.asList(extra.split("\\s+")));
    }
    ProcessBuilder builder = new ProcessBuilder(command).directory(pytests.toFile());
    builder.environment().put("QUIVER_URI", server.uri());
    // Keep src/test/python free of __pycache__.
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    builder.environment().put("PYTHONUNBUFFERED", "1");

    int exitCode =
        ChildProcesses.run(builder, "[pytest] ", logs.resolve("pytest.log"), PYTEST_TIMEOUT);

    assertThat(exitCode)
        .as("pytest collected no tests from %s", pytests)
        .isNotEqualTo(NO_TESTS_COLLECTED);
    assertThat(exitCode)
        .as(
            "pytest exit code (see the output above, %s and the server log %s)",
            logs.resolve("pytest.log"), server.logFile())
        .isZero();
    assertThat(server.isAlive()).as("the server survived the suite").isTrue();
  }

  /**
   * A put batch over limits.max-message-size: gRPC refuses it before the server reads it, so what
   * pyarrow 25 shows is fixed by pyarrow: {@code reader.read()} gives None (no receipt), and {@code
   * writer.close()} raises ArrowInvalid with gRPC's RESOURCE_EXHAUSTED message and both sizes. The
   * server logs one line naming the key. README documents this and the fix.
   */
  @Test
  void aPutBatchOverTheMessageLimitFailsAtCloseWithBothSizes() throws Exception {
    try (QuiverServerProcess small =
        QuiverServerProcess.startWithJvmOptions(List.of(), "--limits.max-message-size", "1MB")) {
      Path log = QuiverServerProcess.logsDir().resolve("put-over-limit.log");
      ProcessBuilder builder =
          new ProcessBuilder(
                  python.toString(),
                  pytests.resolve("put_over_limit.py").toString(),
                  small.uri(),
                  "300000")
              .directory(pytests.toFile());
      builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");

      int exit = ChildProcesses.run(builder, "[put-over-limit] ", log, Duration.ofMinutes(2));

      List<String> output = java.nio.file.Files.readAllLines(log);
      assertThat(exit).as("exit code; output %s", output).isZero();
      assertThat(output).contains("receipt: None");
      assertThat(output)
          .anyMatch(
              line ->
                  line.startsWith("close: ArrowInvalid")
                      && line.contains("resource exhausted")
                      && line.matches(".*exceeds maximum size 1048576: \\d+.*"));
      assertThat(small.isAlive()).isTrue();
      small.stop();
      String serverLog = java.nio.file.Files.readString(small.logFile());
      assertThat(serverLog)
          .contains("Refused a client message over limits.max-message-size")
          .doesNotContain("Exception processing message");
    }
  }
}
