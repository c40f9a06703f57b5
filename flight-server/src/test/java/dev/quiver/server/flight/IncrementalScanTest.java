package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Incremental reads: ScanCommand.from_snapshot_id, through the SDK and the JSON command. */
@ExtendWith(ArrowAllocatorExtension.class)
class IncrementalScanTest {
  private static final TableId ID = TableId.of("ns", "t");

  @TempDir Path dataDir;
  // Checks every call closed and the memory back to zero after each test, then closes the server.
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
  }

  @Test
  void theSdkTailsATablePutByPut(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      long last = put(client, allocator, 0, 100).snapshotId();
      assertThat(ids(client, ScanOptions.builder().snapshotId(last).build()))
          .isEqualTo(range(0, 100));
      for (int p = 1; p <= 3; p++) {
        long snapshot = put(client, allocator, p * 100L, 100).snapshotId();
        assertThat(ids(client, ScanOptions.builder().fromSnapshotId(last).build()))
            .as("rows appended after snapshot %d", last)
            .isEqualTo(range(p * 100L, 100));
        last = snapshot;
      }
      assertThat(ids(client, ScanOptions.builder().fromSnapshotId(last).build()))
          .as("nothing after the current snapshot")
          .isEmpty();

      // A compaction (a replace snapshot) adds no rows: a tail passes over it.
      try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
        assertThat(
                PartitioningTest.action(
                        flight,
                        QuiverActions.COMPACT_TABLE,
                        "{\"namespace\": \"ns\", \"table\": \"t\"}")
                    .get("files_rewritten")
                    .asInt())
            .isEqualTo(4);
      }
      long afterCompaction = put(client, allocator, 400, 50).snapshotId();
      assertThat(ids(client, ScanOptions.builder().fromSnapshotId(last).build()))
          .isEqualTo(range(400, 50));
      // A bounded range: from the first tail point to the third put's snapshot.
      assertThat(
              ids(
                  client,
                  ScanOptions.builder().fromSnapshotId(last).snapshotId(afterCompaction).build()))
          .isEqualTo(range(400, 50));
    }
  }

  @Test
  void aRangeOverADeleteIsRefusedUnlessAsked(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      long first = put(client, allocator, 0, 10).snapshotId();
      put(client, allocator, 10, 10);
      var table = server.store().load(ID).table();
      table.newDelete().deleteFromRowFilter(Expressions.alwaysTrue()).commit();
      long delete = server.store().load(ID).currentSnapshotId().orElseThrow();
      put(client, allocator, 20, 10);

      assertThatThrownBy(() -> ids(client, ScanOptions.builder().fromSnapshotId(first).build()))
          .isInstanceOf(QuiverException.class)
          .satisfies(
              e ->
                  assertThat(((QuiverException) e).code().flightStatus())
                      .isEqualTo(QuiverErrorCode.INVALID_ARGUMENT.flightStatus()))
          .hasMessageContaining(
              "Cannot read table ns.t incrementally from snapshot " + first + " to ")
          .hasMessageContaining("snapshot " + delete + " (operation delete) is not an append");
      assertThat(ids(client, ScanOptions.builder().fromSnapshotId(first).allowNonAppend().build()))
          .as("only the rows the range appended")
          .isEqualTo(concat(range(10, 10), range(20, 10)));
    }
  }

  @Test
  void unknownSnapshotsAndBackwardRangesAreRefused(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      long first = put(client, allocator, 0, 10).snapshotId();
      long second = put(client, allocator, 10, 10).snapshotId();
      assertThatThrownBy(() -> ids(client, ScanOptions.builder().fromSnapshotId(12345).build()))
          .isInstanceOf(QuiverException.class)
          .satisfies(
              e ->
                  assertThat(((QuiverException) e).code().flightStatus())
                      .isEqualTo(QuiverErrorCode.SNAPSHOT_NOT_FOUND.flightStatus()))
          .hasMessageContaining("Table ns.t has no snapshot 12345");
      assertThatThrownBy(
              () ->
                  ids(
                      client,
                      ScanOptions.builder().fromSnapshotId(second).snapshotId(first).build()))
          .isInstanceOf(QuiverException.class)
          .satisfies(
              e ->
                  assertThat(((QuiverException) e).code().flightStatus())
                      .isEqualTo(QuiverErrorCode.INVALID_ARGUMENT.flightStatus()))
          .hasMessageContaining(second + " is not an earlier snapshot of " + first + "'s history");
      assertThatThrownBy(() -> ScanOptions.builder().allowNonAppend().build())
          .isInstanceOf(QuiverException.class)
          .hasMessageContaining("allowNonAppend applies to incremental reads only");
    }
  }

  @Test
  void theJsonCommandPyarrowSendsReadsIncrementally(BufferAllocator allocator) throws Exception {
    long first;
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      first = put(client, allocator, 0, 10).snapshotId();
      put(client, allocator, 10, 5);
    }
    String json =
        "{\"@type\": \"type.googleapis.com/quiver.v1.ScanCommand\", \"table\": {\"namespace\":"
            + " \"ns\", \"name\": \"t\"}, \"from_snapshot_id\": \""
            + first
            + "\"}";
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<Long> ids = new ArrayList<>();
      for (FlightEndpoint endpoint :
          client
              .getInfo(FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8)))
              .getEndpoints()) {
        try (FlightStream stream = client.getStream(endpoint.getTicket())) {
          while (stream.next()) {
            BigIntVector v = (BigIntVector) stream.getRoot().getVector("id");
            for (int i = 0; i < stream.getRoot().getRowCount(); i++) {
              ids.add(v.get(i));
            }
          }
        }
      }
      assertThat(ids).isEqualTo(range(10, 5));
    }
  }

  private static PutReceipt put(
      QuiverClient client, BufferAllocator allocator, long first, int rows) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, first, rows);
      return client.put(ID, root);
    }
  }

  private static List<Long> ids(QuiverClient client, ScanOptions options) throws Exception {
    List<Long> ids = new ArrayList<>();
    try (ArrowReader reader = client.scan(ID, options)) {
      while (reader.loadNextBatch()) {
        BigIntVector v = (BigIntVector) reader.getVectorSchemaRoot().getVector("id");
        for (int i = 0; i < reader.getVectorSchemaRoot().getRowCount(); i++) {
          ids.add(v.get(i));
        }
      }
    }
    return ids;
  }

  private static List<Long> range(long first, int count) {
    return LongStream.range(first, first + count).boxed().toList();
  }

  private static List<Long> concat(List<Long> a, List<Long> b) {
    List<Long> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
