package dev.quiver.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs JMH with its usual command line and appends the JVM flags Arrow needs to every forked JVM.
 *
 * <p>The flags come from the root pom's {@code quiver.jvm.flags}, filtered into the resource {@code
 * jvm-flags.txt} at build time, so they are written down in one place only.
 */
public final class BenchmarkRunner {
  private static final String FLAGS_RESOURCE = "jvm-flags.txt";

  private BenchmarkRunner() {}

  /** The JVM flags from the root pom, one list element per flag. */
  public static List<String> jvmFlags() {
    try (InputStream in = BenchmarkRunner.class.getResourceAsStream(FLAGS_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("Missing resource " + FLAGS_RESOURCE + ": rebuild");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      if (text.isEmpty() || text.contains("${")) {
        throw new IllegalStateException(
            "Resource " + FLAGS_RESOURCE + " was not filtered from quiver.jvm.flags: " + text);
      }
      return List.of(text.split("\\s+"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The options of {@code args} (JMH's command line) with the Arrow flags appended to forks, after
   * any {@code -jvmArgsAppend} given there.
   */
  public static Options options(String... args) throws CommandLineOptionException {
    CommandLineOptions commandLine = new CommandLineOptions(args);
    List<String> append = new ArrayList<>(commandLine.getJvmArgsAppend().orElse(List.of()));
    append.addAll(jvmFlags());
    return new OptionsBuilder()
        .parent(commandLine)
        .jvmArgsAppend(append.toArray(new String[0]))
        .build();
  }

  /**
   * As {@code org.openjdk.jmh.Main}, with the Arrow flags appended to forks; {@code -h} lists JMH's
   * options, {@code -l} the benchmarks.
   */
  public static void main(String[] args) throws Exception {
    CommandLineOptions commandLine;
    try {
      commandLine = new CommandLineOptions(args);
    } catch (CommandLineOptionException e) {
      System.err.println("Error parsing command line: " + e.getMessage());
      System.exit(1);
      return;
    }
    if (commandLine.shouldHelp()
        || commandLine.shouldList()
        || commandLine.shouldListWithParams()
        || commandLine.shouldListProfilers()
        || commandLine.shouldListResultFormats()) {
      org.openjdk.jmh.Main.main(args);
      return;
    }
    new Runner(options(args)).run();
  }
}
