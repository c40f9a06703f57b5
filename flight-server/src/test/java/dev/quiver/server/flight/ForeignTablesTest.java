package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.parquet.ArrowSchemas;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables another engine created in Quiver's catalog (no Quiver properties, Parquet written by
 * DuckDB and registered through Iceberg's API, as Trino or Spark do): served like Quiver's own, and
 * one Quiver cannot serve is left out of listings without breaking them.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class ForeignTablesTest {
  private static final FlightDescriptor EVENTS = FlightDescriptor.path("ext", "events");
  private static final FlightDescriptor ODD = FlightDescriptor.path("ext", "odd");

  private static final Schema EVENTS_SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()),
          Types.NestedField.optional(3, "amount", Types.DecimalType.of(10, 2)),
          Types.NestedField.optional(4, "ts", Types.TimestampType.withZone()),
          Types.NestedField.optional(5, "local_ts", Types.TimestampType.withoutZone()),
          Types.NestedField.optional(6, "day", Types.DateType.get()),
          Types.NestedField.optional(7, "ratio", Types.DoubleType.get()),
          Types.NestedField.optional(8, "flag", Types.BooleanType.get()),
          Types.NestedField.optional(9, "n", Types.IntegerType.get()),
          Types.NestedField.optional(10, "raw", Types.BinaryType.get()),
          Types.NestedField.optional(11, "uid", Types.UUIDType.get()));

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dataDir;

  private static Table createEvents(OtherEngine other) throws Exception {
    other.catalog().createNamespace(Namespace.of("ext"));
    Table table =
        other
            .catalog()
            .createTable(
                TableIdentifier.of("ext", "events"),
                EVENTS_SCHEMA,
                PartitionSpec.unpartitioned(),
                Map.of("format-version", "2"));
    other.append(
        table,
        "SELECT range AS id, 'n' || range AS name, CAST(range * 1.25 AS DECIMAL(10,2)) AS amount,"
            + " TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (range) SECOND AS ts,"
            + " TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (range) MINUTE AS local_ts,"
            + " DATE '2026-01-01' + CAST(range AS INTEGER) AS day, range / 4.0 AS ratio,"
            + " range % 2 = 0 AS flag, CAST(range AS INTEGER) AS n,"
            + " CAST('ab' AS BLOB) AS raw,"
            + " CAST('00000000-0000-0000-0000-0000000000' || lpad(CAST(range AS VARCHAR), 2, '0')"
            + " AS UUID) AS uid FROM range(100)",
        "FIELD_IDS {id: 1, name: 2, amount: 3, ts: 4, local_ts: 5, day: 6, ratio: 7, flag: 8, n: 9,"
            + " raw: 10, uid: 11}",
        100);
    return other.table("ext", "events");
  }

  @Test
  void aTableAnotherEngineCreatedReadsThroughDoGetAndSqlAndIsListed(BufferAllocator allocator)
      throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      Table table = createEvents(other);
      assertThat(table.properties()).doesNotContainKey(IcebergTableStore.ARROW_SCHEMA_PROPERTY);

      FlightInfo info = client.getInfo(EVENTS);
      List<Field> fields = info.getSchemaOptional().orElseThrow().getFields();
      assertThat(fields)
          .extracting(Field::getType)
          .containsExactly(
              new ArrowType.Int(64, true),
              ArrowType.Utf8.INSTANCE,
              new ArrowType.Decimal(10, 2, 128),
              new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"),
              new ArrowType.Timestamp(TimeUnit.MICROSECOND, null),
              new ArrowType.Date(DateUnit.DAY),
              new ArrowType.FloatingPoint(
                  org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE),
              ArrowType.Bool.INSTANCE,
              new ArrowType.Int(32, true),
              ArrowType.Binary.INSTANCE,
              new ArrowType.FixedSizeBinary(16));
      assertThat(fields.get(0).isNullable()).isFalse();
      assertThat(fields.get(1).getMetadata()).containsEntry(ArrowSchemas.FIELD_ID_KEY, "2");
      assertThat(info.getRecords()).isEqualTo(100);

      List<List<Object>> rows = new ArrayList<>();
      try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            List<Object> row = new ArrayList<>();
            for (int c = 0; c < root.getFieldVectors().size(); c++) {
              row.add(root.getVector(c).getObject(i));
            }
            rows.add(row);
          }
        }
      }
      assertThat(rows).hasSize(100);
      List<Object> row3 = rows.get(3);
      assertThat(row3.get(0)).isEqualTo(3L);
      assertThat(row3.get(1).toString()).isEqualTo("n3");
      assertThat(row3.get(2)).isEqualTo(new BigDecimal("3.75"));
      assertThat(row3.get(3)).isEqualTo(1_767_225_600_000_000L + 3_000_000L);
      assertThat(row3.get(4)).isEqualTo(LocalDateTime.of(2026, 1, 1, 0, 3));
      assertThat(row3.get(5)).isEqualTo((int) LocalDate.of(2026, 1, 4).toEpochDay());
      assertThat(row3.get(6)).isEqualTo(0.75);
      assertThat(row3.get(7)).isEqualTo(false);
      assertThat(row3.get(8)).isEqualTo(3);
      assertThat(row3.get(9)).isEqualTo("ab".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      byte[] uid = new byte[16];
      uid[15] = 0x03;
      assertThat(row3.get(10)).isEqualTo(uid);

      assertThat(listed(client)).contains(EVENTS);
      // FlightSqlClient closes the client it wraps: last.
      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        assertThat(
                DeleteFilesTest.sqlLongs(
                    client, sql, "SELECT count(*) AS n FROM ext.events WHERE flag AND id < 10"))
            .containsExactly(5L);
        assertThat(
                DeleteFilesTest.sqlLongs(
                    client, sql, "SELECT CAST(sum(amount) * 100 AS BIGINT) AS n FROM ext.events"))
            .containsExactly(618_750L);
      }
    }
  }

  @Test
  void aTableWithAColumnQuiverCannotServeIsLeftOutOfListingsAndItsReadsFail(
      BufferAllocator allocator) throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      createEvents(other);
      other
          .catalog()
          .createTable(
              TableIdentifier.of("ext", "odd"),
              new Schema(
                  Types.NestedField.optional(1, "id", Types.LongType.get()),
                  Types.NestedField.optional(2, "payload", Types.VariantType.get())),
              PartitionSpec.unpartitioned(),
              Map.of("format-version", "3"));
      IdTable.put(client, allocator, FlightDescriptor.path("ns", "t"), 0, 10);

      assertThat(listed(client))
          .contains(EVENTS, FlightDescriptor.path("ns", "t"))
          .doesNotContain(ODD);
      assertThatThrownBy(() -> client.getInfo(ODD))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining(
              "Cannot serve table ext.odd: column payload has Iceberg type variant");
      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        List<String> tables = new ArrayList<>();
        FlightInfo info = sql.getTables(null, null, null, null, false);
        try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
          while (stream.next()) {
            for (int i = 0; i < stream.getRoot().getRowCount(); i++) {
              tables.add(
                  stream.getRoot().getVector("db_schema_name").getObject(i)
                      + "."
                      + stream.getRoot().getVector("table_name").getObject(i));
            }
          }
        }
        assertThat(tables).contains("ext.events", "ns.t").doesNotContain("ext.odd");
        assertThatThrownBy(() -> sql.execute("SELECT count(*) AS n FROM ext.odd"))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
            .hasMessageContaining("column payload has Iceberg type variant");
      }
    }
  }

  @Test
  void aPutIntoAForeignTableIsCheckedAgainstItsDerivedSchema(BufferAllocator allocator)
      throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      other.catalog().createNamespace(Namespace.of("ext"));
      Table ids =
          other
              .catalog()
              .createTable(
                  TableIdentifier.of("ext", "ids"),
                  new Schema(Types.NestedField.optional(1, "id", Types.LongType.get())),
                  PartitionSpec.unpartitioned(),
                  Map.of("format-version", "2"));
      other.append(ids, "SELECT range AS id FROM range(5)", "FIELD_IDS {id: 1}", 5);
      // A file written without field ids reads by name.
      other.append(ids, "SELECT range + 5 AS id FROM range(5)", "", 5);

      IdTable.put(client, allocator, FlightDescriptor.path("ext", "ids"), 10, 5);

      assertThat(
              QuiverProducerTest.readIds(
                  client, client.getInfo(FlightDescriptor.path("ext", "ids"))))
          .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L);
      assertThatThrownBy(() -> putStrings(client, allocator, FlightDescriptor.path("ext", "ids")))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("ext.ids");
    }
  }

  private static void putStrings(
      FlightClient client, BufferAllocator allocator, FlightDescriptor table) throws Exception {
    org.apache.arrow.vector.types.pojo.Schema schema =
        new org.apache.arrow.vector.types.pojo.Schema(
            List.of(Field.nullable("id", ArrowType.Utf8.INSTANCE)));
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        org.apache.arrow.flight.SyncPutListener listener =
            new org.apache.arrow.flight.SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(table, root, listener);
      ((org.apache.arrow.vector.VarCharVector) root.getVector(0)).setSafe(0, new byte[] {'x'});
      root.setRowCount(1);
      stream.putNext();
      stream.completed();
      stream.getResult();
    }
  }

  private static List<FlightDescriptor> listed(FlightClient client) {
    List<FlightDescriptor> out = new ArrayList<>();
    client.listFlights(new Criteria(new byte[0])).forEach(i -> out.add(i.getDescriptor()));
    return out;
  }
}
