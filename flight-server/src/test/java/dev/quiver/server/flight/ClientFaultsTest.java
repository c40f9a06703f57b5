package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.QuiverActions;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightGrpcUtils;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that vanish mid-call and clients that write one table at once: a vanished put commits
 * nothing and gives its memory back, a vanished get gives its memory back, and concurrent appends
 * are all committed (Iceberg's optimistic commit retries the losers).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class ClientFaultsTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");
  private static final int WRITERS = 8;
  private static final int PUTS_PER_WRITER = 5;

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "scan.batch-rows", "1024");
  }

  @Test
  void aClientThatVanishesMidPutCommitsNothingAndFreesItsMemory(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 10_000);
    }
    List<Path> files = dataFiles();
    ManagedChannel channel = channel();
    try (FlightClient vanishing = FlightGrpcUtils.createFlightClient(allocator, channel);
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = vanishing.startPut(TABLE, root, listener);
      for (int b = 0; b < 20; b++) {
        IdTable.fill(root, 10_000 + b * 1000L, 1000);
        stream.putNext();
      }
      Await.until(() -> server.memory().report().calls().size() == 1, "the put to arrive");
      // The client goes away without finishing or cancelling: its connection is torn down.
      channel.shutdownNow();
      servers.awaitMemoryReturned();
    }
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(10_000));
      assertThat(client.getInfo(TABLE).getRecords()).isEqualTo(10_000);
    }
    Await.until(() -> filesEqual(files), "the vanished put's staged files to be deleted");
  }

  @Test
  void aClientThatVanishesMidGetFreesItsMemory(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 200_000);
    }
    ManagedChannel channel = channel();
    try (FlightClient vanishing = FlightGrpcUtils.createFlightClient(allocator, channel)) {
      FlightEndpoint endpoint = vanishing.getInfo(TABLE).getEndpoints().get(0);
      FlightStream stream = vanishing.getStream(endpoint.getTicket());
      assertThat(stream.next()).isTrue();
      assertThat(server.memory().report().calls()).isNotEmpty();
      // The client goes away mid-stream: its connection is torn down.
      channel.shutdownNow();
      servers.awaitMemoryReturned();
      try {
        stream.close();
      } catch (Exception expected) {
        // The stream's call was cancelled with the channel.
      }
    }
  }

  @Test
  void concurrentWritersToOneTableAreAllCommitted(BufferAllocator allocator) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> writers = new ArrayList<>();
      CountDownLatch ready = new CountDownLatch(WRITERS);
      for (int w = 0; w < WRITERS; w++) {
        long base = w * 1_000_000L;
        writers.add(
            pool.submit(
                () -> {
                  try (BufferAllocator child = allocator.newChildAllocator("writer", 0, 1 << 30);
                      FlightClient client =
                          FlightClient.builder(child, server.location()).build()) {
                    ready.countDown();
                    if (!ready.await(30, TimeUnit.SECONDS)) {
                      throw new AssertionError("the other writers never started");
                    }
                    for (int p = 0; p < PUTS_PER_WRITER; p++) {
                      IdTable.put(client, child, TABLE, base + p * 1000L, 1000);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> writer : writers) {
        writer.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      long expected = 0;
      for (int w = 0; w < WRITERS; w++) {
        long base = w * 1_000_000L;
        expected += IdTable.sum(base + PUTS_PER_WRITER * 1000L) - IdTable.sum(base);
      }
      assertThat(client.getInfo(TABLE).getRecords()).isEqualTo(WRITERS * PUTS_PER_WRITER * 1000L);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(expected);
      // One snapshot per put: none lost, none merged.
      Result snapshots =
          client
              .doAction(
                  new Action(
                      QuiverActions.LIST_SNAPSHOTS,
                      "{\"namespace\":\"ns\",\"table\":\"t\"}".getBytes(StandardCharsets.UTF_8)))
              .next();
      assertThat(new ObjectMapper().readTree(snapshots.getBody()).get("snapshots"))
          .hasSize(WRITERS * PUTS_PER_WRITER);
    }
    servers.awaitMemoryReturned();
  }

  private ManagedChannel channel() {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.location().getUri().getPort())
        .usePlaintext()
        .build();
  }

  private boolean filesEqual(List<Path> expected) {
    try {
      return dataFiles().equals(expected);
    } catch (Exception e) {
      return false;
    }
  }

  private List<Path> dataFiles() throws Exception {
    try (Stream<Path> walk = Files.walk(dataDir.resolve("warehouse"))) {
      return walk.filter(p -> p.toString().endsWith(".parquet")).sorted().toList();
    }
  }
}
