package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.adbc.core.AdbcConnection;
import org.apache.arrow.adbc.core.AdbcDatabase;
import org.apache.arrow.adbc.core.AdbcDriver;
import org.apache.arrow.adbc.core.AdbcException;
import org.apache.arrow.adbc.core.AdbcStatement;
import org.apache.arrow.adbc.core.AdbcStatusCode;
import org.apache.arrow.adbc.core.BulkIngestMode;
import org.apache.arrow.adbc.core.PartitionDescriptor;
import org.apache.arrow.adbc.driver.flightsql.FlightSqlDriver;
import org.apache.arrow.adbc.sql.SqlQuirks;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java ADBC Flight SQL driver (adbc-driver-flight-sql), unmodified, against the server process:
 * bulk ingest, queries of every common type, prepared statements, metadata, partitioned execution
 * read in parallel, errors with ADBC status codes, and no Arrow memory left behind.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AdbcIT {
  @TempDir static Path dataDir;
  private static QuiverServerProcess server;

  private AdbcDatabase database;
  private AdbcConnection connection;

  @BeforeAll
  static void start() {
    // Endpoints of about 1 MB of files: each put below is a file, so a partition of its own.
    server = QuiverServerProcess.start(dataDir, "--flight.endpoint-target-size", "1MB");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void connect(BufferAllocator allocator) throws AdbcException {
    database = open(allocator, Map.of());
    connection = database.connect();
  }

  @AfterEach
  void close() throws Exception {
    connection.close();
    database.close();
  }

  private static AdbcDatabase open(BufferAllocator allocator, Map<String, Object> extra)
      throws AdbcException {
    Map<String, Object> parameters = new HashMap<>(extra);
    AdbcDriver.PARAM_URI.set(parameters, server.uri());
    return new FlightSqlDriver(allocator).open(parameters);
  }

  @Test
  void bulkIngestCreatesThenAppends(BufferAllocator allocator) throws Exception {
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(32, true)),
                Field.nullable("name", ArrowType.Utf8.INSTANCE)));
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      fillIngest(root, 0, 1000);
      // The driver's default quirks write CREATE TABLE adbc.ingest (id INT, name CLOB).
      try (AdbcStatement ingest = connection.bulkIngest("adbc.ingest", BulkIngestMode.CREATE)) {
        ingest.bind(root);
        assertThat(ingest.executeUpdate().getAffectedRows()).isEqualTo(1000);
      }
      fillIngest(root, 1000, 500);
      try (AdbcStatement append = connection.bulkIngest("adbc.ingest", BulkIngestMode.APPEND)) {
        append.bind(root);
        assertThat(append.executeUpdate().getAffectedRows()).isEqualTo(500);
      }
      try (AdbcStatement again = connection.bulkIngest("adbc.ingest", BulkIngestMode.CREATE)) {
        again.bind(root);
        assertThatThrownBy(again::executeUpdate)
            .isInstanceOfSatisfying(
                AdbcException.class,
                e -> assertThat(e.getStatus()).isEqualTo(AdbcStatusCode.ALREADY_EXISTS))
            .hasMessageContaining("adbc.ingest");
      }
    }
    List<List<Object>> rows =
        rows("SELECT count(*) AS n, CAST(sum(id) AS BIGINT) AS s, min(name) AS m FROM adbc.ingest");
    assertThat(rows).containsExactly(List.of(1500L, 1499L * 1500 / 2, "name-0"));
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery("SELECT * FROM adbc.ingest");
      assertSameFields(statement.executeSchema(), schema);
    }
  }

  @Test
  void bulkIngestWithStandardTypeNamesKeepsEveryType(BufferAllocator allocator) throws Exception {
    // What an ADBC user maps Arrow types to when the default quirks (INT and CLOB only) do not do.
    SqlQuirks quirks =
        SqlQuirks.builder()
            .arrowToSqlTypeNameMapping(
                type ->
                    switch (type.getTypeID()) {
                      case Int -> ((ArrowType.Int) type).getBitWidth() == 64 ? "BIGINT" : "INT";
                      case FloatingPoint -> "DOUBLE PRECISION";
                      case Utf8 -> "CHARACTER VARYING(100)";
                      case Bool -> "BOOLEAN";
                      case Binary -> "BINARY LARGE OBJECT";
                      case Decimal -> "NUMERIC(18,2)";
                      case Timestamp -> "TIMESTAMP WITH TIME ZONE";
                      default -> null;
                    })
            .build();
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("i", new ArrowType.Int(64, true)),
                Field.nullable("d", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
                Field.nullable("s", ArrowType.Utf8.INSTANCE),
                Field.nullable("b", ArrowType.Bool.INSTANCE),
                Field.nullable("x", ArrowType.Binary.INSTANCE),
                Field.nullable("n", new ArrowType.Decimal(18, 2, 128)),
                Field.nullable(
                    "t",
                    new ArrowType.Timestamp(
                        org.apache.arrow.vector.types.TimeUnit.MICROSECOND, "UTC"))));
    try (AdbcDatabase typed = open(allocator, Map.of(AdbcDriver.PARAM_SQL_QUIRKS, quirks));
        AdbcConnection typedConnection = typed.connect();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        AdbcStatement ingest = typedConnection.bulkIngest("adbc.standard", BulkIngestMode.CREATE)) {
      root.allocateNew();
      ((BigIntVector) root.getVector("i")).setSafe(0, Long.MAX_VALUE);
      ((Float8Vector) root.getVector("d")).setSafe(0, 0.1);
      ((VarCharVector) root.getVector("s")).setSafe(0, "héllo".getBytes(StandardCharsets.UTF_8));
      ((BitVector) root.getVector("b")).setSafe(0, 1);
      ((VarBinaryVector) root.getVector("x")).setSafe(0, new byte[] {0, 1, -1});
      ((DecimalVector) root.getVector("n")).setSafe(0, new BigDecimal("12345.67"));
      ((TimeStampMicroTZVector) root.getVector("t")).setSafe(0, 1_700_000_000_123_456L);
      root.setRowCount(1);
      ingest.bind(root);
      assertThat(ingest.executeUpdate().getAffectedRows()).isEqualTo(1);

      try (AdbcStatement query = connection.createStatement()) {
        query.setSqlQuery("SELECT * FROM adbc.standard");
        try (AdbcStatement.QueryResult result = query.executeQuery()) {
          ArrowReader reader = result.getReader();
          assertThat(reader.loadNextBatch()).isTrue();
          VectorSchemaRoot read = reader.getVectorSchemaRoot();
          assertThat(read.getSchema().getFields())
              .extracting(Field::getType)
              .containsExactlyElementsOf(schema.getFields().stream().map(Field::getType).toList());
          assertSameValues(read, root);
        }
      }
    }
  }

  @Test
  void queriesReturnEveryCommonTypeExactly(BufferAllocator allocator) throws Exception {
    Schema schema = everyTypeSchema();
    try (VectorSchemaRoot written = VectorSchemaRoot.create(schema, allocator);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      fillEveryType(written);
      FlightTables.put(
          client, FlightDescriptor.path("adbc", "types"), written, stream -> stream.putNext());

      try (AdbcStatement statement = connection.createStatement()) {
        statement.setSqlQuery("SELECT * FROM adbc.types");
        assertSameFields(statement.executeSchema(), schema);
        try (AdbcStatement.QueryResult result = statement.executeQuery()) {
          ArrowReader reader = result.getReader();
          assertThat(reader.loadNextBatch()).isTrue();
          VectorSchemaRoot read = reader.getVectorSchemaRoot();
          assertSameFields(read.getSchema(), schema);
          assertSameValues(read, written);
          assertThat(reader.loadNextBatch()).isFalse();
        }
      }
    }
  }

  @Test
  void preparedStatementsTakeParameters(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path("adbc", "prepared"), 0, 100);
    }
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery("SELECT * FROM adbc.prepared WHERE id >= ? ORDER BY id");
      statement.prepare();
      Schema parameters = statement.getParameterSchema();
      assertThat(parameters.getFields()).hasSize(1);
      try (VectorSchemaRoot bound = VectorSchemaRoot.create(parameters, allocator)) {
        bound.allocateNew();
        ((BigIntVector) bound.getVector(0)).setSafe(0, 97);
        bound.setRowCount(1);
        statement.bind(bound);
        try (AdbcStatement.QueryResult result = statement.executeQuery()) {
          assertThat(FlightTables.readAll(result.getReader()))
              .extracting(row -> row.get(0))
              .containsExactly(97L, 98L, 99L);
        }
        ((BigIntVector) bound.getVector(0)).setSafe(0, 99);
        try (AdbcStatement.QueryResult result = statement.executeQuery()) {
          assertThat(FlightTables.readAll(result.getReader()))
              .extracting(row -> row.get(0))
              .containsExactly(99L);
        }
      }
    }
  }

  @Test
  void getObjectsListsCatalogSchemasAndTables(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path("adbcmeta", "listed"), 0, 3);
    }
    try (ArrowReader reader =
        connection.getObjects(
            AdbcConnection.GetObjectsDepth.TABLES, null, "adbcmeta", null, null, null)) {
      assertThat(reader.loadNextBatch()).isTrue();
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      assertThat(root.getRowCount()).isEqualTo(1);
      assertThat(root.getVector("catalog_name").getObject(0)).hasToString("quiver");
      ListVector schemas = (ListVector) root.getVector("catalog_db_schemas");
      // [{db_schema_name=adbcmeta, db_schema_tables=[{table_name=listed, table_type=TABLE, ...}]}]
      assertThat(String.valueOf(schemas.getObject(0)))
          .contains("\"db_schema_name\":\"adbcmeta\"")
          .contains("\"table_name\":\"listed\"");
    }
  }

  @Test
  void partitionedExecutionGivesOnePartitionPerEndpointReadInParallel(BufferAllocator allocator)
      throws Exception {
    int files = 3;
    long rowsPerFile = 1_000_000;
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < files; i++) {
        FlightTables.put(
            client, allocator, FlightDescriptor.path("adbc", "big"), i * rowsPerFile, rowsPerFile);
      }
    }
    String query = "SELECT id, amount FROM adbc.big WHERE id % 3 <> 1";

    List<PartitionDescriptor> partitions;
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery(query);
      partitions = statement.executePartitioned().getPartitionDescriptors();
    }
    assertThat(partitions).hasSize(files);

    ExecutorService readers = Executors.newFixedThreadPool(files);
    List<long[]> parts = new ArrayList<>();
    try {
      List<Future<long[]>> reads = new ArrayList<>();
      for (PartitionDescriptor partition : partitions) {
        reads.add(readers.submit(() -> readPartition(partition)));
      }
      for (Future<long[]> read : reads) {
        parts.add(read.get(2, TimeUnit.MINUTES));
      }
    } finally {
      readers.shutdownNow();
      assertThat(readers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
    long[] whole;
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery(query);
      try (AdbcStatement.QueryResult result = statement.executeQuery()) {
        whole = sumAndCount(result.getReader());
      }
    }
    long expectedCount = 0;
    long expectedSum = 0;
    for (long id = 0; id < files * rowsPerFile; id++) {
      if (id % 3 != 1) {
        expectedCount++;
        expectedSum += id;
      }
    }
    assertThat(whole).containsExactly(expectedCount, expectedSum);
    assertThat(parts.stream().mapToLong(p -> p[0]).sum()).isEqualTo(expectedCount);
    assertThat(parts.stream().mapToLong(p -> p[1]).sum()).isEqualTo(expectedSum);
    // Each partition read its own file: ids [i * rowsPerFile, (i + 1) * rowsPerFile).
    assertThat(parts).allSatisfy(p -> assertThat(p[0]).isPositive());
  }

  @Test
  void queriesThatNeedTheWholeResultAreOnePartition(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 3; i++) {
        // About 1 MB of Parquet each.
        FlightTables.put(
            client, allocator, FlightDescriptor.path("adbc", "three"), i * 200_000L, 200_000);
      }
    }
    assertThat(partitions("SELECT id FROM adbc.three")).isGreaterThan(1);
    assertThat(partitions("SELECT id FROM adbc.three ORDER BY id")).isEqualTo(1);
    assertThat(partitions("SELECT id FROM adbc.three LIMIT 10")).isEqualTo(1);
    assertThat(partitions("SELECT count(*) FROM adbc.three")).isEqualTo(1);
  }

  private int partitions(String sql) throws AdbcException {
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery(sql);
      return statement.executePartitioned().getPartitionDescriptors().size();
    } catch (AdbcException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void errorsCarryAdbcStatusCodes() throws Exception {
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery("SELEC 1");
      assertThatThrownBy(statement::executeQuery)
          .isInstanceOfSatisfying(
              AdbcException.class,
              e -> assertThat(e.getStatus()).isEqualTo(AdbcStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("syntax error at or near \"SELEC\"");
      statement.setSqlQuery("SELECT * FROM adbc.missing");
      assertThatThrownBy(statement::executeQuery)
          .isInstanceOfSatisfying(
              AdbcException.class,
              e -> assertThat(e.getStatus()).isEqualTo(AdbcStatusCode.NOT_FOUND))
          .hasMessageContaining("adbc.missing");
    }
  }

  private long[] readPartition(PartitionDescriptor partition) throws Exception {
    // A connection of its own per reader, as partitions are meant to be read.
    try (AdbcConnection own = database.connect();
        ArrowReader reader = own.readPartition(partition.getDescriptor())) {
      return sumAndCount(reader);
    }
  }

  /** {count, sum of id} over every row the reader yields; closes the reader. */
  private static long[] sumAndCount(ArrowReader reader) throws IOException {
    long count = 0;
    long sum = 0;
    try (reader) {
      while (reader.loadNextBatch()) {
        BigIntVector ids = (BigIntVector) reader.getVectorSchemaRoot().getVector("id");
        for (int i = 0; i < ids.getValueCount(); i++) {
          sum += ids.get(i);
        }
        count += ids.getValueCount();
      }
    }
    return new long[] {count, sum};
  }

  private List<List<Object>> rows(String sql) throws Exception {
    try (AdbcStatement statement = connection.createStatement()) {
      statement.setSqlQuery(sql);
      try (AdbcStatement.QueryResult result = statement.executeQuery()) {
        List<List<Object>> rows = new ArrayList<>();
        ArrowReader reader = result.getReader();
        while (reader.loadNextBatch()) {
          VectorSchemaRoot root = reader.getVectorSchemaRoot();
          for (int r = 0; r < root.getRowCount(); r++) {
            List<Object> row = new ArrayList<>();
            for (FieldVector vector : root.getFieldVectors()) {
              Object value = vector.getObject(r);
              row.add(
                  value instanceof org.apache.arrow.vector.util.Text ? value.toString() : value);
            }
            rows.add(row);
          }
        }
        return rows;
      }
    }
  }

  private static void fillIngest(VectorSchemaRoot root, int first, int count) {
    root.allocateNew();
    IntVector ids = (IntVector) root.getVector("id");
    VarCharVector names = (VarCharVector) root.getVector("name");
    for (int i = 0; i < count; i++) {
      ids.setSafe(i, first + i);
      names.setSafe(i, ("name-" + (first + i)).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(count);
  }

  static Schema everyTypeSchema() {
    return new Schema(
        List.of(
            Field.nullable("b", ArrowType.Bool.INSTANCE),
            Field.nullable("i8", new ArrowType.Int(8, true)),
            Field.nullable("i16", new ArrowType.Int(16, true)),
            Field.nullable("i32", new ArrowType.Int(32, true)),
            Field.nullable("i64", new ArrowType.Int(64, true)),
            Field.nullable("f32", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
            Field.nullable("f64", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
            Field.nullable("s", ArrowType.Utf8.INSTANCE),
            Field.nullable("bin", ArrowType.Binary.INSTANCE),
            Field.nullable("dec", new ArrowType.Decimal(18, 2, 128)),
            Field.nullable("day", new ArrowType.Date(DateUnit.DAY)),
            Field.nullable(
                "tod", new ArrowType.Time(org.apache.arrow.vector.types.TimeUnit.MICROSECOND, 64)),
            Field.nullable(
                "ts",
                new ArrowType.Timestamp(org.apache.arrow.vector.types.TimeUnit.MICROSECOND, null)),
            Field.nullable(
                "tstz",
                new ArrowType.Timestamp(
                    org.apache.arrow.vector.types.TimeUnit.MICROSECOND, "UTC"))));
  }

  /** Row 0 ordinary values, row 1 the extremes, row 2 all nulls. */
  static void fillEveryType(VectorSchemaRoot root) {
    root.allocateNew();
    ((BitVector) root.getVector("b")).setSafe(0, 1);
    ((BitVector) root.getVector("b")).setSafe(1, 0);
    ((TinyIntVector) root.getVector("i8")).setSafe(0, 7);
    ((TinyIntVector) root.getVector("i8")).setSafe(1, Byte.MIN_VALUE);
    ((SmallIntVector) root.getVector("i16")).setSafe(0, 300);
    ((SmallIntVector) root.getVector("i16")).setSafe(1, Short.MAX_VALUE);
    ((IntVector) root.getVector("i32")).setSafe(0, -70_000);
    ((IntVector) root.getVector("i32")).setSafe(1, Integer.MIN_VALUE);
    ((BigIntVector) root.getVector("i64")).setSafe(0, 1L << 40);
    ((BigIntVector) root.getVector("i64")).setSafe(1, Long.MAX_VALUE);
    ((Float4Vector) root.getVector("f32")).setSafe(0, 1.5f);
    ((Float4Vector) root.getVector("f32")).setSafe(1, Float.NaN);
    ((Float8Vector) root.getVector("f64")).setSafe(0, 0.1);
    ((Float8Vector) root.getVector("f64")).setSafe(1, Double.NEGATIVE_INFINITY);
    ((VarCharVector) root.getVector("s")).setSafe(0, "plain".getBytes(StandardCharsets.UTF_8));
    ((VarCharVector) root.getVector("s")).setSafe(1, "ünï 字".getBytes(StandardCharsets.UTF_8));
    ((VarBinaryVector) root.getVector("bin")).setSafe(0, new byte[] {1, 2, 3});
    ((VarBinaryVector) root.getVector("bin")).setSafe(1, new byte[] {0, -1});
    ((DecimalVector) root.getVector("dec")).setSafe(0, new BigDecimal("123.45"));
    ((DecimalVector) root.getVector("dec")).setSafe(1, new BigDecimal("-9999999999999999.99"));
    ((DateDayVector) root.getVector("day")).setSafe(0, 19_000);
    ((DateDayVector) root.getVector("day")).setSafe(1, -1);
    ((TimeMicroVector) root.getVector("tod")).setSafe(0, 3_600_000_000L + 1);
    ((TimeMicroVector) root.getVector("tod")).setSafe(1, 86_399_999_999L);
    ((TimeStampMicroVector) root.getVector("ts")).setSafe(0, 1_700_000_000_000_001L);
    ((TimeStampMicroVector) root.getVector("ts")).setSafe(1, -1L);
    ((TimeStampMicroTZVector) root.getVector("tstz")).setSafe(0, 1_700_000_000_000_002L);
    ((TimeStampMicroTZVector) root.getVector("tstz")).setSafe(1, 0L);
    for (FieldVector vector : root.getFieldVectors()) {
      vector.setNull(2);
    }
    root.setRowCount(3);
  }

  /** The same column names, types and nullability (field metadata aside). */
  static void assertSameFields(Schema actual, Schema expected) {
    assertThat(actual.getFields())
        .extracting(f -> f.getName() + " " + f.getType() + " " + f.isNullable())
        .containsExactlyElementsOf(
            expected.getFields().stream()
                .map(f -> f.getName() + " " + f.getType() + " " + f.isNullable())
                .toList());
  }

  /** Every value of {@code actual} equals {@code expected}'s, column by column. */
  static void assertSameValues(VectorSchemaRoot actual, VectorSchemaRoot expected) {
    assertThat(actual.getRowCount()).isEqualTo(expected.getRowCount());
    for (int c = 0; c < expected.getFieldVectors().size(); c++) {
      FieldVector want = expected.getVector(c);
      FieldVector got = actual.getVector(c);
      for (int r = 0; r < expected.getRowCount(); r++) {
        assertThat(Objects.deepEquals(got.getObject(r), want.getObject(r)))
            .as(
                "%s row %d: %s, expected %s",
                want.getName(), r, got.getObject(r), want.getObject(r))
            .isTrue();
      }
    }
  }
}
