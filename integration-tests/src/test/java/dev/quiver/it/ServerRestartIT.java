package dev.quiver.it;

import static dev.quiver.it.FlightTables.listSnapshots;
import static dev.quiver.it.FlightTables.put;
import static dev.quiver.it.FlightTables.readAll;
import static dev.quiver.it.FlightTables.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.PutReceipt;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Tables written by one server process are there, unchanged, for the next one on the same data. */
@ExtendWith(ArrowAllocatorExtension.class)
class ServerRestartIT {
  private static final String NAMESPACE = "restart";
  private static final String TABLE = "events";
  private static final FlightDescriptor EVENTS = FlightDescriptor.path(NAMESPACE, TABLE);

  @TempDir Path dataDir;

  @Test
  void tablesAndSnapshotsSurviveARestart(BufferAllocator allocator) throws Exception {
    PutReceipt second;
    JsonNode snapshotsBefore;
    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, EVENTS, 0, 10_000);
      second = put(client, allocator, EVENTS, 10_000, 2_500);
      snapshotsBefore = listSnapshots(client, NAMESPACE, TABLE);
      assertThat(server.stop().forced()).as("stopped by SIGTERM alone").isFalse();
    }

    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(readAll(client, EVENTS)).isEqualTo(rows(0, 12_500));
      JsonNode snapshotsAfter = listSnapshots(client, NAMESPACE, TABLE);
      assertThat(snapshotsAfter).isEqualTo(snapshotsBefore);
      assertThat(snapshotsAfter.get("current_snapshot_id").asLong()).isEqualTo(second.snapshotId());

      PutReceipt third = put(client, allocator, EVENTS, 12_500, 100);

      assertThat(readAll(client, EVENTS)).isEqualTo(rows(0, 12_600));
      JsonNode snapshots = listSnapshots(client, NAMESPACE, TABLE).get("snapshots");
      assertThat(snapshots).hasSize(3);
      JsonNode last = snapshots.get(2);
      assertThat(last.get("snapshot_id").asLong()).isEqualTo(third.snapshotId());
      assertThat(last.get("parent_id").asLong()).isEqualTo(second.snapshotId());
      assertThat(last.get("total_records").asLong()).isEqualTo(12_600);
    }
  }

  @Test
  void aPutCutShortByShutdownCommitsNothing(BufferAllocator allocator) throws Exception {
    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, EVENTS, 0, 100);
      try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator);
          SyncPutListener listener = new SyncPutListener()) {
        FlightClient.ClientStreamListener stream = client.startPut(EVENTS, root, listener);
        for (long first = 1_000; first < 5_000; first += 1_000) {
          FlightTables.fill(root, first, 1_000);
          stream.putNext();
        }

        QuiverServerProcess.ExitStatus status = server.stop();

        assertThat(status.forced()).as("stopped by SIGTERM alone, open put and all").isFalse();
        Throwable failure = catchThrowable(stream::getResult);
        assertThat(failure).isInstanceOf(FlightRuntimeException.class);
        assertThat(((FlightRuntimeException) failure).status().code())
            .isIn(FlightStatusCode.CANCELLED, FlightStatusCode.UNAVAILABLE);
      }
    }

    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(readAll(client, EVENTS)).isEqualTo(rows(0, 100));
      assertThat(listSnapshots(client, NAMESPACE, TABLE).get("snapshots")).hasSize(1);
    }
  }

  @Test
  void tablesOfManyNamespacesAreListedAfterARestart(BufferAllocator allocator) throws Exception {
    List<String> expected = new ArrayList<>();
    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (String namespace : List.of("alpha", "beta")) {
        for (String table : List.of("one", "two")) {
          put(client, allocator, FlightDescriptor.path(namespace, table), 0, 10);
          expected.add(namespace + "." + table);
        }
      }
    }

    try (QuiverServerProcess server = QuiverServerProcess.start(dataDir);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<String> listed = new ArrayList<>();
      client
          .listFlights(org.apache.arrow.flight.Criteria.ALL)
          .forEach(info -> listed.add(String.join(".", info.getDescriptor().getPath())));
      assertThat(listed).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(readAll(client, FlightDescriptor.path("beta", "two"))).isEqualTo(rows(0, 10));
    }
  }
}
