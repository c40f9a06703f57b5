package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's Java SDK example is examples/src/main/java/dev/quiver/examples/QuickStart.java, word
 * for word, and runs as written against a server on the class path the SDK alone brings to a user's
 * project: no logging backend, so no gRPC DEBUG lines.
 */
@ExtendWith(QuiverServerExtension.class)
class ExamplesIT {
  private static final Path EXAMPLES =
      Paths.get(QuiverServerProcess.requiredProperty("quiver.examples.dir"));
  private static final Path QUICK_START =
      EXAMPLES.resolve("src/main/java/dev/quiver/examples/QuickStart.java");

  @Test
  void readmeShowsTheExampleAsItIs() throws Exception {
    String readme =
        Files.readString(Paths.get(QuiverServerProcess.requiredProperty("quiver.readme")));
    Matcher block =
        Pattern.compile("```java\\n(package dev\\.quiver\\.examples;.*?)```", Pattern.DOTALL)
            .matcher(readme);
    assertThat(block.find()).as("a ```java block with QuickStart in README.md").isTrue();
    assertThat(block.group(1)).isEqualTo(Files.readString(QUICK_START));
  }

  @Test
  void quickStartRunsOnTheSdksOwnClassPath(QuiverServerProcess server) throws Exception {
    String classPath =
        EXAMPLES.resolve("target/classes")
            + java.io.File.pathSeparator
            + Files.readString(EXAMPLES.resolve("target/classpath.txt")).strip();
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        QuiverServerProcess.jvmFlags(
            Paths.get(QuiverServerProcess.requiredProperty("quiver.server.dir"))
                .resolve("jvm.options")));
    command.addAll(
        List.of(
            "-cp",
            classPath,
            "dev.quiver.examples.QuickStart",
            "127.0.0.1",
            String.valueOf(server.port())));
    Path log = QuiverServerProcess.logsDir().resolve("quick-start.log");

    int exit =
        ChildProcesses.run(
            new ProcessBuilder(command), "[quick-start] ", log, Duration.ofMinutes(2));

    List<String> output = Files.readAllLines(log, StandardCharsets.UTF_8);
    assertThat(exit).as("exit code; output:%n%s", String.join("\n", output)).isZero();
    assertThat(output).anyMatch(line -> line.matches("Put 3 rows in snapshot -?\\d+"));
    assertThat(output).containsSubsequence("id\tname", "2\tLima", "3\tPune");
    assertThat(output).noneMatch(line -> line.contains("Oslo"));
    assertThat(output).anyMatch(line -> line.startsWith("SnapshotInfo["));
    // The SDK depends on slf4j-api only: a user's own backend decides what is logged.
    assertThat(output).noneMatch(line -> line.contains("DEBUG"));
    assertThat(String.join("\n", classPath.split(java.io.File.pathSeparator)))
        .doesNotContain("logback")
        .doesNotContain("slf4j-simple")
        .doesNotContain("log4j-core");
  }
}
