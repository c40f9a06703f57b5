package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  @Test
  void pyarrowSuitePassesAgainstTheRealServer(QuiverServerProcess server) throws Exception {
    Path venv = Paths.get(QuiverServerProcess.requiredProperty("quiver.venv.dir"));
    Path pytests = Paths.get(QuiverServerProcess.requiredProperty("quiver.pytests.dir"));
    Path python = venv.resolve("bin").resolve("python");
    assertThat(python)
        .as("the venv the build creates in pre-integration-test (exec-maven-plugin)")
        .isExecutable();
    Path logs = QuiverServerProcess.logsDir();
    Files.createDirectories(logs);

    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            python.toString(),
            "-m",
            "pytest",
            "-q",
            "-rfEs",
            "-p",
            "no:cacheprovider",
            "--junitxml=" + logs.resolve("pytest-junit.xml"),
            pytests.toString()));
    String extra = System.getProperty("quiver.pytest.args", "").trim();
    if (!extra.isEmpty()) {
      command.addAll(Arrays.asList(extra.split("\\s+")));
    }
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(pytests.toFile()).redirectErrorStream(true);
    builder.environment().put("QUIVER_URI", server.uri());
    builder.environment().put("QUIVER_SERVER_LOG", server.logFile().toString());
    // Keep src/test/python free of __pycache__.
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    builder.environment().put("PYTHONUNBUFFERED", "1");

    Process pytest = builder.start();
    int exitCode;
    try {
      Thread pump = streamOutput(pytest, logs.resolve("pytest.log"));
      if (!pytest.waitFor(PYTEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        pytest.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new AssertionError("pytest did not finish within " + PYTEST_TIMEOUT);
      }
      pump.join(TimeUnit.SECONDS.toMillis(30));
      exitCode = pytest.exitValue();
    } finally {
      pytest.destroyForcibly();
    }

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

  /** Copies pytest's output line by line to the console and to a log file. */
  private static Thread streamOutput(Process process, Path logFile) {
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader reader =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
                String line;
                while ((line = reader.readLine()) != null) {
                  System.out.println("[pytest] " + line);
                  log.write(line);
                  log.write(System.lineSeparator());
                }
              } catch (IOException e) {
                System.err.println("Lost pytest output: " + e);
              }
            },
            "pytest-output");
    pump.setDaemon(true);
    pump.start();
    return pump;
  }
}
