package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import dev.quiver.testing.PostgresExtension;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server processes on one PostgreSQL catalog and one warehouse: writers on both lose no row,
 * endpoints land on both and read back whole from their locations, and a node killed with SIGKILL
 * drops out of new plans within cluster.node-timeout while the survivor keeps serving every row.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterIT {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();

  private static final FlightDescriptor EVENTS = FlightDescriptor.path("ns", "events");
  private static final long NODE_TIMEOUT_MILLIS = 3000;

  @TempDir Path dataDir;

  @Test
  void twoNodesShareTablesAndAKilledNodeLeavesThePlans(BufferAllocator allocator) throws Exception {
    // Each node has its own data folder (one server per folder); they share one warehouse.
    String catalog = POSTGRES.newDatabase();
    String[] args = {
      "--catalog.uri",
      catalog,
      "--catalog.user",
      POSTGRES.user(),
      "--cluster.node-timeout",
      NODE_TIMEOUT_MILLIS + "ms",
      "--flight.endpoint-target-size",
      "1KB",
      "--storage.warehouse",
      dataDir.resolve("warehouse").toString()
    };
    try (QuiverServerProcess a = QuiverServerProcess.start(dataDir.resolve("a"), args);
        QuiverServerProcess b = QuiverServerProcess.start(dataDir.resolve("b"), args);
        FlightClient clientA = FlightClient.builder(allocator, a.location()).build();
        FlightClient clientB = FlightClient.builder(allocator, b.location()).build()) {
      FlightTables.put(clientA, allocator, EVENTS, 0, 100);

      // Eight writers, four on each node, append to the one table at once.
      int writers = 8;
      int putsEach = 3;
      int rows = 500;
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          FlightClient client = w % 2 == 0 ? clientA : clientB;
          long base = 100 + (long) w * putsEach * rows;
          futures.add(
              pool.submit(
                  () -> {
                    try (BufferAllocator child =
                        allocator.newChildAllocator("writer-" + base, 0, Long.MAX_VALUE)) {
                      go.await();
                      for (int p = 0; p < putsEach; p++) {
                        FlightTables.put(client, child, EVENTS, base + (long) p * rows, rows);
                      }
                    }
                    return null;
                  }));
        }
        go.countDown();
        for (Future<?> f : futures) {
          f.get(3, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      long total = 100 + (long) writers * putsEach * rows;
      assertThat(FlightTables.readAll(clientB, EVENTS)).isEqualTo(FlightTables.rows(0, total));

      Set<URI> both = Set.of(URI.create(a.uri()), URI.create(b.uri()));
      Await.until(() -> planned(clientA).equals(both), "node A to plan endpoints on both nodes");
      assertThat(readFromLocations(allocator, clientA.getInfo(EVENTS)))
          .isEqualTo(FlightTables.rows(0, total));

      b.kill();
      long killed = System.nanoTime();
      Await.until(
          () -> planned(clientA).isEmpty(), "node A to plan alone once node B stops beating");
      long droppedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
      assertThat(droppedMillis)
          .as("node B out of plans within cluster.node-timeout and a heartbeat")
          .isLessThan(NODE_TIMEOUT_MILLIS + 2000);
      assertThat(FlightTables.readAll(clientA, EVENTS)).isEqualTo(FlightTables.rows(0, total));
    }
  }

  /** The locations a new plan of the table names (empty: a node planning alone). */
  private static Set<URI> planned(FlightClient client) {
    Set<URI> used = new HashSet<>();
    for (FlightEndpoint e : client.getInfo(EVENTS).getEndpoints()) {
      e.getLocations().forEach(l -> used.add(l.getUri()));
    }
    return used;
  }

  /** Every row, each endpoint read from the node its location names. */
  private static List<List<Object>> readFromLocations(BufferAllocator allocator, FlightInfo info)
      throws Exception {
    List<List<Object>> rows = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      Location location = endpoint.getLocations().get(0);
      try (FlightClient there = FlightClient.builder(allocator, location).build();
          FlightStream stream = there.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          rows.addAll(FlightTables.values(stream.getRoot()));
        }
      }
    }
    rows.sort(Comparator.comparingLong(row -> (Long) row.get(0)));
    return rows;
  }
}
