package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server whose catalog database cannot be reached stops at once with one line naming it. */
class CatalogStartIT {
  @TempDir Path dir;

  @Test
  void anUnreachableCatalogPrintsOneLineNamingItAndExitsNonZero() throws Exception {
    int closed;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = probe.getLocalPort();
    }
    String uri = "jdbc:postgresql://127.0.0.1:" + closed + "/quiver_catalog";
    Path log = QuiverServerProcess.logsDir().resolve("catalog-start-it.log");
    Files.deleteIfExists(log);
    List<String> command =
        QuiverServerProcess.command(
            dir.resolve("data"),
            Files.createDirectories(dir.resolve("tmp")),
            "--catalog.uri",
            uri,
            "--catalog.user",
            "quiver");
    int exit =
        ChildProcesses.run(
            new ProcessBuilder(command), "[catalog-start] ", log, Duration.ofSeconds(90));

    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    assertThat(exit).isEqualTo(2);
    assertThat(lines.stream().filter(l -> l.contains("catalog.uri=")))
        .singleElement()
        .asString()
        .contains("quiver: Cannot open the catalog database catalog.uri=" + uri + ": ")
        .contains("refused");
    assertThat(lines)
        .as("no stack trace")
        .noneMatch(l -> l.contains("\tat ") || l.startsWith("Caused by"));
  }
}
