package dev.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.config.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuiverServerTest {
  @TempDir Path dataDir;

  private QuiverServer start() throws Exception {
    return QuiverServer.start(
        ServerConfig.load(
            Map.of(),
            Map.of(),
            Map.of(
                "flight.port",
                "0",
                "storage.data-dir",
                dataDir.toString(),
                "memory.total",
                "256MB")));
  }

  @Test
  void grpcHealthServiceReportsServingOnTheFlightPort() throws Exception {
    try (QuiverServer server = start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        HealthGrpc.HealthBlockingStub health =
            HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(
                health
                    .check(
                        HealthCheckRequest.newBuilder()
                            .setService("arrow.flight.protocol.FlightService")
                            .build())
                    .getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(server.uri()).isEqualTo("grpc://127.0.0.1:" + server.port());
    }
  }

  @Test
  void aSecondServerOnTheSameDataFolderIsRefusedUntilTheFirstStops() throws Exception {
    try (QuiverServer first = start()) {
      assertThatThrownBy(this::start)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "Another Quiver server is using the data folder %s (it holds %s); stop it, or give"
                  + " this server another storage.data-dir",
              dataDir.toAbsolutePath().normalize(),
              dataDir.toAbsolutePath().normalize().resolve("quiver.lock"));
      assertThat(first.port()).isPositive();
    }
    try (QuiverServer again = start()) {
      assertThat(again.port()).isPositive();
    }
  }

  @Test
  void aBindFailureIsRecognisedThroughItsCauses() {
    assertThat(
            QuiverServer.bindFailure(
                new java.io.IOException(
                    "Failed to bind", new java.net.BindException("Address already in use"))))
        .isTrue();
    assertThat(QuiverServer.bindFailure(new java.io.IOException("disk full"))).isFalse();
  }

  @Test
  void closingTwiceIsHarmless() throws Exception {
    QuiverServer server = start();
    server.close();
    server.close();
  }
}
