package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverActions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The server as a process: it starts, says where it listens, answers, and stops on SIGTERM. */
@ExtendWith(ArrowAllocatorExtension.class)
class ServerProcessIT {
  @TempDir Path dataDir;

  @Test
  void serverListensOnTheAnnouncedPortAndAnswersServerInfo(BufferAllocator allocator)
      throws Exception {
    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      JsonNode info = FlightTables.action(client, QuiverActions.SERVER_INFO, Map.of());

      assertThat(server.port()).isPositive();
      assertThat(info.path("name").asText()).isNotBlank();
      assertThat(info.path("version").asText()).isNotBlank().isNotEqualTo("dev");
      assertThat(info.path("iceberg_version").asText()).matches("\\d+\\.\\d+\\.\\d+.*");
      assertThat(info.path("arrow_version").asText()).matches("\\d+\\.\\d+\\.\\d+.*");
      assertThat(Files.readString(server.logFile()))
          .containsPattern("Quiver listening on grpc(\\+tcp)?://127\\.0\\.0\\.1:" + server.port());
    }
  }

  @Test
  void sigtermStopsTheServerGracefullyAndPromptly() {
    QuiverServerProcess server = QuiverServerProcess.start(dataDir);
    long started = System.nanoTime();

    QuiverServerProcess.ExitStatus status = server.stop();

    assertThat(status.forced()).as("needed a forced kill; log %s", server.logFile()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
    assertThat(server.isAlive()).isFalse();
    assertThat(server.stop()).isEqualTo(status);
  }

  @Test
  void twoServersRunSideBySideOnTheirOwnPortsAndData() {
    try (QuiverServerProcess first = QuiverServerProcess.start();
        QuiverServerProcess second = QuiverServerProcess.start()) {
      assertThat(first.port()).isNotEqualTo(second.port());
      assertThat(first.dataDir()).isNotEqualTo(second.dataDir());
    }
  }

  @Test
  void aSecondServerOnTheSameDataFolderIsRefusedInOneLine() {
    try (QuiverServerProcess first = QuiverServerProcess.start(dataDir)) {
      assertThatThrownBy(() -> QuiverServerProcess.start(dataDir))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "quiver: Another Quiver server is using the data folder " + dataDir.toAbsolutePath())
          .hasMessageContaining("give this server another storage.data-dir")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\tat "));
      assertThat(first.isAlive()).isTrue();
    }
  }

  @Test
  void aTakenPortFailsInOneLineNamingTheAddress(@TempDir Path otherData) {
    try (QuiverServerProcess first = QuiverServerProcess.start(dataDir)) {
      assertThatThrownBy(
              () -> QuiverServerProcess.start(otherData, "--port", String.valueOf(first.port())))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "quiver: cannot listen on 127.0.0.1:"
                  + first.port()
                  + ": the address is in use (flight.port)")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\tat "));
    }
  }

  @Test
  void aServerThatCannotStartFailsWithItsOutput() {
    assertThatThrownBy(() -> QuiverServerProcess.start(dataDir, "--no-such-option", "x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Quiver server failed to start: the process exited before it was")
        .hasMessageContaining("no-such-option")
        .hasMessageMatching("(?s).*last output:\\R.*\\S.*");
  }
}
