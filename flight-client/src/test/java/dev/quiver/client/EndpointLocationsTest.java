package dev.quiver.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A scan reads each endpoint from the location it names: another node over a connection of its own,
 * the server the client connected to when the endpoint names it or nothing.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(60)
class EndpointLocationsTest {
  private static final int SHARES = 4;
  private static final TableId EVENTS = TableId.of("web", "events");

  private FakeQuiverServer first;
  private FakeQuiverServer second;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    first = FakeQuiverServer.start(allocator, SHARES);
    second = FakeQuiverServer.start(allocator, SHARES);
    // Both nodes hold the same table, as cluster nodes over one catalog do.
    for (FakeQuiverServer node : List.of(first, second)) {
      try (QuiverClient client =
              QuiverClient.connect(
                  node.location(), ClientOptions.builder().parentAllocator(allocator).build());
          ArrowReader rows = TestRows.reader(allocator, 8, 10)) {
        client.put(EVENTS, rows);
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    AutoCloseables.close(first, second);
  }

  @Test
  void endpointsAreReadWhereTheirLocationsPoint(BufferAllocator allocator) throws Exception {
    // Endpoints 0..3 name: the second node, the first node itself, nothing, the second node.
    first
        .producer()
        .routeEndpoints(
            List.of(List.of(second.location()), List.of(first.location()), List.of(), List.of()));
    int firstBefore = first.producer().startedStreams();
    List<String> rows = new ArrayList<>();
    try (QuiverClient client =
        QuiverClient.connect(
            first.location(), ClientOptions.builder().parentAllocator(allocator).build())) {
      try (ArrowReader scan = client.scan(EVENTS)) {
        rows.addAll(TestRows.read(scan));
      }
      assertThat(first.producer().startedStreams() - firstBefore).isEqualTo(3);
      assertThat(second.producer().startedStreams()).isEqualTo(1);

      try (ArrowReader again = client.scan(EVENTS, ScanOptions.builder().parallelism(4).build())) {
        assertThat(TestRows.read(again)).containsExactlyInAnyOrderElementsOf(rows);
      }
      assertThat(second.producer().startedStreams()).isEqualTo(2);
    }
    assertThat(rows).containsExactlyInAnyOrderElementsOf(TestRows.expected(0, 80));
  }

  @Test
  void theReuseConnectionLocationReadsFromTheServerAsked(BufferAllocator allocator)
      throws Exception {
    first.producer().routeEndpoints(List.of(List.of(Location.reuseConnection())));
    try (QuiverClient client =
            QuiverClient.connect(
                first.location(), ClientOptions.builder().parentAllocator(allocator).build());
        ArrowReader scan = client.scan(EVENTS)) {
      assertThat(TestRows.read(scan)).hasSize(80);
    }
    assertThat(second.producer().startedStreams()).isZero();
  }
}
