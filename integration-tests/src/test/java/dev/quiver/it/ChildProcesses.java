package dev.quiver.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Runs helper processes (pip, pytest) with their output on the console and in a log file. */
final class ChildProcesses {
  private ChildProcesses() {}

  /**
   * Starts {@code builder} with stderr merged into stdout, prints each output line with {@code
   * prefix} and copies it to {@code logFile}, and waits at most {@code timeout}. Returns the exit
   * code; on timeout kills the process and throws.
   *
   * <p>Output goes through System.out line by line rather than inheritIO: Failsafe's forked JVM
   * talks to Maven over its own stdout, which a child must not write to directly.
   */
  static int run(ProcessBuilder builder, String prefix, Path logFile, Duration timeout)
      throws IOException, InterruptedException {
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    Process process = builder.redirectErrorStream(true).start();
    try {
      Thread pump = pump(process, prefix, logFile);
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new IllegalStateException(
            String.join(" ", builder.command()) + " did not finish within " + timeout);
      }
      pump.join(TimeUnit.SECONDS.toMillis(30));
      return process.exitValue();
    } finally {
      process.destroyForcibly();
    }
  }

  private static Thread pump(Process process, String prefix, Path logFile) {
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader reader =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
                String line;
                while ((line = reader.readLine()) != null) {
                  System.out.println(prefix + line);
                  log.write(line);
                  log.write(System.lineSeparator());
                }
              } catch (IOException e) {
                System.err.println("Lost output of " + prefix.trim() + ": " + e);
              }
            },
            "output" + prefix.trim());
    pump.setDaemon(true);
    pump.start();
    return pump;
  }
}
