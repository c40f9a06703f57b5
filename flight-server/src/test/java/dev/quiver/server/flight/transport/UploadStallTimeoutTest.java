package dev.quiver.server.flight.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.flight.IdTable;
import dev.quiver.server.flight.TestServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A put whose client keeps the call open but stops sending is failed after flight.put-stall-timeout
 * (TIMED_OUT naming the key), commits nothing and gives its memory back; without the timeout it
 * held its admission and memory until the server stopped.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class UploadStallTimeoutTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "stalled");

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "flight.put-stall-timeout", "300ms");
  }

  @Test
  void aPutWhoseClientStopsMidwayFailsCommitsNothingAndFreesItsMemory(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(TABLE, root, listener);
      for (int b = 0; b < 3; b++) {
        IdTable.fill(root, b * 1000L, 1000);
        stream.putNext();
      }
      // No completed(), no more batches: the client just stops.
      // Bounded, so that a put that is never timed out fails the test rather than hanging it.
      assertThatThrownBy(() -> assertTimeoutPreemptively(Duration.ofSeconds(60), stream::getResult))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.TIMED_OUT))
          .hasMessageContaining("the client sent nothing for 300 ms (flight.put-stall-timeout)");
      awaitMemoryReturned();
      assertThatThrownBy(() -> client.getInfo(TABLE))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("ns.stalled");
    }
  }

  @Test
  void aPutThatNeverSendsItsSchemaFails() throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      TestServers.RawPut put = TestServers.rawPut(channel);
      Status status = put.status().get(60, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(status.getDescription()).contains("flight.put-stall-timeout");
      put.requests().onCompleted();
      awaitMemoryReturned();
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private void awaitMemoryReturned() throws InterruptedException {
    assertThat(server.memory().awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
    Await.until(() -> server.memory().allocated() == 0, "the governor to return to zero");
  }
}
