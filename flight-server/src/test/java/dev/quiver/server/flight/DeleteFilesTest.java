package dev.quiver.server.flight;

import static dev.quiver.server.table.filter.TestPredicates.compare;
import static dev.quiver.server.table.filter.TestPredicates.filter;
import static dev.quiver.server.table.filter.TestPredicates.of;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import dev.quiver.client.QuiverActions;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.CloseableIterable;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Iceberg delete files another engine committed (position deletes as Trino's DELETE writes them,
 * equality deletes as Flink's): no Quiver read returns a deleted row.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class DeleteFilesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dataDir;

  /** Three puts of 1,000 ids each (0..2999), three data files; the files in read order. */
  private List<DataFile> threeFiles(
      FlightClient client, BufferAllocator allocator, OtherEngine other) throws Exception {
    for (int i = 0; i < 3; i++) {
      IdTable.put(client, allocator, TABLE, i * 1000L, 1000);
    }
    List<DataFile> files = OtherEngine.dataFiles(other.table("ns", "t"));
    assertThat(files).hasSize(3);
    return files;
  }

  @ParameterizedTest
  @ValueSource(strings = {"duckdb", "arrow-dataset"})
  void positionDeletesHideRowsFromDoGetInfoAndSql(String engine, BufferAllocator allocator)
      throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB", "scan.engine", engine);
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      List<DataFile> files = threeFiles(client, allocator, other);
      Table table = other.table("ns", "t");
      other.deletePositions(
          table,
          Map.of(
              files.get(0).location(), List.of(5L, 10L, 999L),
              files.get(1).location(), List.of(0L)));

      List<Long> expected = idsWithout(3000, 5, 10, 999, 1000);
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(TABLE)))
          .containsExactlyElementsOf(expected);
      // Rows only a read can count once deletes apply: unknown, never the count before deletes.
      assertThat(client.getInfo(TABLE).getRecords()).isEqualTo(-1);
      assertThat(listedRecords(client)).isEqualTo(-1);

      // A limit counts rows after deletes; a filter and the limit combine.
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(scan(10, null))))
          .containsExactly(0L, 1L, 2L, 3L, 4L, 6L, 7L, 8L, 9L, 11L);
      assertThat(
              QuiverProducerTest.readIds(
                  client, client.getInfo(scan(-1, compare("id", Comparison.Op.LT, of(1002L))))))
          .containsExactlyElementsOf(expected.subList(0, 998));

      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        assertThat(sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t")).containsExactly(2996L);
        assertThat(sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t WHERE id < 20"))
            .containsExactly(18L);
        assertThat(
                sqlLongs(
                    client, sql, "SELECT count(*) AS n FROM ns.t a JOIN ns.t b ON a.id = b.id + 1"))
            .as("pairs of consecutive ids both kept")
            .containsExactly(2999L - 7);
        assertThat(
                sqlLongs(
                    client, sql, "SELECT id AS n FROM ns.t WHERE id IN (4, 5, 999, 1000, 1001)"))
            .containsExactlyInAnyOrder(4L, 1001L);
      }
    }
  }

  @Test
  void equalityDeletesHideMatchingRowsPutBeforeThemOnly(BufferAllocator allocator)
      throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      threeFiles(client, allocator, other);
      other.deleteEqual(other.table("ns", "t"), "id", java.util.Arrays.asList(7L, 2500L, null));
      // Put after the delete: an equality delete applies to rows committed before it only.
      IdTable.put(client, allocator, TABLE, 7, 1);

      List<Long> expected = new ArrayList<>(idsWithout(3000, 7, 2500));
      expected.add(7L);
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(TABLE)))
          .containsExactlyElementsOf(expected);
      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        assertThat(sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t")).containsExactly(2999L);
        assertThat(sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t WHERE id = 7"))
            .containsExactly(1L);
      }
    }
  }

  @Test
  void compactionAppliesDeletesAndDropsTheDeleteFilesItMadeObsolete(BufferAllocator allocator)
      throws Exception {
    QuiverServer server =
        servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      List<DataFile> files = threeFiles(client, allocator, other);
      Table table = other.table("ns", "t");
      other.deletePositions(table, Map.of(files.get(1).location(), List.of(0L, 1L, 2L)));
      other.deleteEqual(other.table("ns", "t"), "id", List.of(2999L));

      JsonNode result =
          action(client, QuiverActions.COMPACT_TABLE, "{\"namespace\": \"ns\", \"table\": \"t\"}");

      assertThat(result.get("files_rewritten").asInt()).isEqualTo(3);
      assertThat(result.get("rows").asLong()).isEqualTo(2996);
      List<Long> expected = idsWithout(3000, 1000, 1001, 1002, 2999);
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(TABLE)))
          .containsExactlyElementsOf(expected);
      Table after = other.table("ns", "t");
      try (CloseableIterable<FileScanTask> tasks = after.newScan().planFiles()) {
        assertThat(tasks).allSatisfy(t -> assertThat(t.deletes()).isEmpty());
      }
      assertThat(after.currentSnapshot().summary())
          .containsEntry("total-position-deletes", "0")
          .containsEntry("total-equality-deletes", "0")
          .containsEntry("total-delete-files", "0");
      assertThat(client.getInfo(TABLE).getRecords()).isEqualTo(2996);
    }
  }

  @Test
  void deletionVectorsAnswerUnimplementedNamingTheTable(BufferAllocator allocator)
      throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      List<DataFile> files = threeFiles(client, allocator, other);
      Table table = other.table("ns", "t");
      table.updateProperties().set(TableProperties.FORMAT_VERSION, "3").commit();
      table
          .newRowDelta()
          .addDeletes(
              FileMetadata.deleteFileBuilder(table.spec())
                  .ofPositionDeletes()
                  .withFormat(FileFormat.PUFFIN)
                  .withPath(table.locationProvider().newDataLocation("dv.puffin"))
                  .withFileSizeInBytes(100)
                  .withRecordCount(1)
                  .withReferencedDataFile(files.get(0).location())
                  .withContentOffset(4L)
                  .withContentSizeInBytes(40L)
                  .build())
          .commit();

      for (ThrowingCallable read :
          List.<ThrowingCallable>of(
              () -> client.getInfo(TABLE),
              () -> {
                try (FlightSqlClient sql = new FlightSqlClient(client)) {
                  sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t");
                }
              })) {
        assertThatThrownBy(read)
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNIMPLEMENTED))
            .hasMessageContaining("Cannot read table ns.t: it has PUFFIN delete files")
            .hasMessageContaining("deletion vectors");
      }
    }
  }

  @Test
  void aSubstraitFilterOnlyArrowDatasetRunsAnswersUnimplementedOnATableWithDeletes(
      BufferAllocator allocator) throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      other.catalog().createNamespace(org.apache.iceberg.catalog.Namespace.of("ext"));
      Table table =
          other
              .catalog()
              .createTable(
                  org.apache.iceberg.catalog.TableIdentifier.of("ext", "days"),
                  new org.apache.iceberg.Schema(
                      org.apache.iceberg.types.Types.NestedField.optional(
                          1, "id", org.apache.iceberg.types.Types.LongType.get()),
                      org.apache.iceberg.types.Types.NestedField.optional(
                          2, "day", org.apache.iceberg.types.Types.DateType.get())),
                  org.apache.iceberg.PartitionSpec.unpartitioned(),
                  Map.of("format-version", "2"));
      DataFile file =
          other.append(
              table,
              "SELECT range AS id, DATE '2024-01-01' + CAST(range AS INTEGER) AS day"
                  + " FROM range(10)",
              "FIELD_IDS {id: 1, day: 2}",
              10);
      other.deletePositions(other.table("ext", "days"), Map.of(file.location(), List.of(8L)));
      FlightDescriptor days = FlightDescriptor.path("ext", "days");
      // A date literal is not among the kinds read back as a predicate: only arrow-dataset runs it.
      java.nio.ByteBuffer substrait =
          dev.quiver.server.table.filter.FilterTranslator.translate(
                  dev.quiver.client.TableId.of("ext", "days"),
                  filter(compare("day", Comparison.Op.GE, of("2024-01-08"))),
                  client.getSchema(days).getSchema())
              .substrait();
      ScanCommand scan =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ext").setName("days"))
              .setFilter(
                  dev.quiver.proto.v1.Filter.newBuilder()
                      .setSubstrait(com.google.protobuf.ByteString.copyFrom(substrait)))
              .build();
      FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));

      assertThatThrownBy(() -> QuiverProducerTest.readIds(client, info))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNIMPLEMENTED))
          .hasMessageContaining(
              "Cannot scan table ext.days with this Substrait filter: the table has row-level"
                  + " deletes");
      // Without that filter the same table reads through DuckDB, deletes applied.
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(days)))
          .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 9L);
    }
  }

  static List<Long> idsWithout(long n, long... deleted) {
    List<Long> gone = LongStream.of(deleted).boxed().toList();
    return LongStream.range(0, n).boxed().filter(id -> !gone.contains(id)).toList();
  }

  static FlightDescriptor scan(long limit, dev.quiver.proto.v1.Predicate predicate) {
    ScanCommand.Builder scan =
        ScanCommand.newBuilder().setTable(TableRef.newBuilder().setNamespace("ns").setName("t"));
    if (limit >= 0) {
      scan.setLimit(limit);
    }
    if (predicate != null) {
      scan.setFilter(filter(predicate));
    }
    return FlightDescriptor.command(Any.pack(scan.build()).toByteArray());
  }

  static List<Long> sqlLongs(FlightClient client, FlightSqlClient sql, String query)
      throws Exception {
    return FlightSqlTest.longs(client, sql.execute(query), "n");
  }

  private static long listedRecords(FlightClient client) {
    for (FlightInfo info : client.listFlights(new org.apache.arrow.flight.Criteria(new byte[0]))) {
      if (info.getDescriptor().equals(TABLE)) {
        return info.getRecords();
      }
    }
    throw new AssertionError("ns.t not listed");
  }

  static JsonNode action(FlightClient client, String type, String body) throws Exception {
    Iterator<Result> results =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    JsonNode node = JSON.readTree(results.next().getBody());
    results.forEachRemaining(r -> {});
    return node;
  }
}
