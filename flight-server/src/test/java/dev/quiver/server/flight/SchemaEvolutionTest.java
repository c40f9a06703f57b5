package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.quiver.client.Filters;
import dev.quiver.client.PutOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** ALTER TABLE through Flight SQL, and reads by field id after it through SQL and DoGet. */
@ExtendWith(ArrowAllocatorExtension.class)
class SchemaEvolutionTest {
  private static final TableId T = TableId.of("ns", "t");

  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private QuiverServer server;
  private FlightClient flight;
  private FlightSqlClient sql;
  private QuiverClient quiver;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    server = FlightSqlTest.startServer(servers, dataDir);
    flight = FlightClient.builder(allocator, server.location()).build();
    sql = new FlightSqlClient(flight);
    quiver = QuiverClient.connect(server.location());
    sql.executeUpdate(
        "CREATE TABLE ns.t (id INTEGER, name VARCHAR, ratio REAL, price DECIMAL(10,2))");
    sql.executeUpdate("INSERT INTO ns.t VALUES (1, 'one', 0.5, 1.25), (2, 'two', 1.5, 2.50)");
  }

  @AfterEach
  void stop() throws Exception {
    sql.close();
    quiver.close();
  }

  @Test
  void addedColumnReadsAsNullFromOlderFiles() throws Exception {
    int snapshots = quiver.snapshots(T).size();

    assertThat(sql.executeUpdate("ALTER TABLE ns.t ADD COLUMN note VARCHAR")).isZero();
    // The current snapshot predates the column; a filter on it still plans.
    assertThat(scan(ScanOptions.builder().filter(Filters.isNull("note")).build()))
        .containsExactly("1|one|0.5|1.25|null", "2|two|1.5|2.50|null");
    sql.executeUpdate("INSERT INTO ns.t VALUES (3, 'three', 2.5, 3.75, 'new')");

    assertThat(quiver.snapshots(T)).hasSize(snapshots + 1); // the INSERT's; ALTER adds none
    assertThat(rows("SELECT id, note FROM ns.t ORDER BY id"))
        .containsExactly("1|null", "2|null", "3|new");
    assertThat(scan())
        .containsExactly("1|one|0.5|1.25|null", "2|two|1.5|2.50|null", "3|three|2.5|3.75|new");
    assertThat(quiver.schema(T).getFields())
        .extracting(Field::getName)
        .containsExactly("id", "name", "ratio", "price", "note");
  }

  @Test
  void renamedColumnKeepsItsDataAndTheOldNameIsGone() throws Exception {
    assertThat(sql.executeUpdate("ALTER TABLE ns.t RENAME COLUMN name TO label")).isZero();
    sql.executeUpdate("INSERT INTO ns.t VALUES (3, 'three', 2.5, 3.75)");

    assertThat(rows("SELECT id, label FROM ns.t ORDER BY id"))
        .containsExactly("1|one", "2|two", "3|three");
    assertThat(scan()).containsExactly("1|one|0.5|1.25", "2|two|1.5|2.50", "3|three|2.5|3.75");
    assertThat(quiver.schema(T).getFields())
        .extracting(Field::getName)
        .containsExactly("id", "label", "ratio", "price");
    assertThatThrownBy(() -> rows("SELECT name FROM ns.t"))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("name");
  }

  @Test
  void droppedColumnIsGoneAndReAddingItsNameGivesNulls() throws Exception {
    assertThat(sql.executeUpdate("ALTER TABLE ns.t DROP COLUMN ratio")).isZero();

    assertThat(scan()).containsExactly("1|one|1.25", "2|two|2.50");
    assertThat(rows("SELECT * FROM ns.t ORDER BY id")).containsExactly("1|one|1.25", "2|two|2.50");

    sql.executeUpdate("ALTER TABLE ns.t ADD ratio DOUBLE");
    sql.executeUpdate("INSERT INTO ns.t VALUES (3, 'three', 3.75, 9.5)");

    assertThat(rows("SELECT id, ratio FROM ns.t ORDER BY id"))
        .containsExactly("1|null", "2|null", "3|9.5");
    assertThat(scan()).containsExactly("1|one|1.25|null", "2|two|2.50|null", "3|three|3.75|9.5");
  }

  @Test
  void widenedColumnsReadExactlyAsTheirNewTypes() throws Exception {
    sql.executeUpdate("INSERT INTO ns.t VALUES (2147483647, 'max', 0.25, 99999999.99)");

    sql.executeUpdate("ALTER TABLE ns.t ALTER COLUMN id TYPE BIGINT");
    sql.executeUpdate("ALTER TABLE ns.t ALTER ratio SET DATA TYPE DOUBLE");
    sql.executeUpdate("ALTER TABLE ns.t ALTER COLUMN price TYPE DECIMAL(14,2)");
    sql.executeUpdate("INSERT INTO ns.t VALUES (1099511627776, 'big', 0.1, 123456789012.34)");

    Schema schema = quiver.schema(T);
    assertThat(schema.findField("id").getType()).isEqualTo(new ArrowType.Int(64, true));
    assertThat(schema.findField("price").getType()).isEqualTo(new ArrowType.Decimal(14, 2, 128));
    assertThat(scan())
        .containsExactly(
            "1|one|0.5|1.25",
            "2|two|1.5|2.50",
            "2147483647|max|0.25|99999999.99",
            "1099511627776|big|0.1|123456789012.34");
    assertThat(rows("SELECT id + 1 AS next FROM ns.t WHERE name = 'max'"))
        .containsExactly("2147483648");
  }

  @Test
  void dropNotNullLetsNullsIn(BufferAllocator allocator) throws Exception {
    Schema strict = new Schema(List.of(Field.notNullable("k", new ArrowType.Int(64, true))));
    Schema loose = new Schema(List.of(Field.nullable("k", new ArrowType.Int(64, true))));
    TableId table = TableId.of("ns", "strict");
    try (VectorSchemaRoot root = VectorSchemaRoot.create(strict, allocator)) {
      root.allocateNew();
      ((BigIntVector) root.getVector(0)).setSafe(0, 7);
      root.setRowCount(1);
      quiver.put(table, root);
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(loose, allocator)) {
      root.allocateNew();
      root.getVector(0).setNull(0);
      root.setRowCount(1);
      assertThatThrownBy(() -> quiver.put(table, root))
          .hasMessageContaining("column k is nullable in the stream but not null in the table");

      assertThat(sql.executeUpdate("ALTER TABLE ns.strict ALTER COLUMN k DROP NOT NULL")).isZero();

      quiver.put(table, root);
    }
    assertThat(rows("SELECT k FROM ns.strict ORDER BY k NULLS LAST")).containsExactly("7", "null");

    // A NOT NULL column goes only into a table without rows.
    sql.executeUpdate("CREATE TABLE ns.empty (a BIGINT)");
    assertThat(sql.executeUpdate("ALTER TABLE ns.empty ADD COLUMN b BIGINT NOT NULL")).isZero();
    assertThat(quiver.schema(TableId.of("ns", "empty")).findField("b").isNullable()).isFalse();
  }

  @Test
  void updatesDeletesAndCompactionAfterAChangeGoByFieldId() throws Exception {
    sql.executeUpdate("ALTER TABLE ns.t RENAME COLUMN name TO label");
    sql.executeUpdate("ALTER TABLE ns.t ADD COLUMN note VARCHAR");
    sql.executeUpdate("INSERT INTO ns.t VALUES (3, 'three', 2.5, 3.75, 'new')");

    assertThat(sql.executeUpdate("UPDATE ns.t SET note = 'was ' || label WHERE id = 1"))
        .isEqualTo(1);
    assertThat(sql.executeUpdate("DELETE FROM ns.t WHERE label = 'two'")).isEqualTo(1);
    assertThat(
            sql.executeUpdate(
                "MERGE INTO ns.t USING (SELECT 3 AS id, 'merged' AS n) s ON t.id = s.id"
                    + " WHEN MATCHED THEN UPDATE SET note = s.n || ' ' || t.label"))
        .isEqualTo(1);
    PartitioningTest.action(flight, "compact-table", "{\"namespace\": \"ns\", \"table\": \"t\"}");

    // Compaction writes the rewritten rows in a new file, after the untouched one.
    assertThat(scan())
        .containsExactlyInAnyOrder("1|one|0.5|1.25|was one", "3|three|2.5|3.75|merged three");
    assertThat(rows("SELECT id, label, note FROM ns.t ORDER BY id"))
        .containsExactly("1|one|was one", "3|three|merged three");
  }

  @Test
  void badChangesAreRefusedNamingTheColumnAndCommitNothing() throws Exception {
    server.store().setPartitioning(T, List.of("bucket(4, id)"));
    Schema before = quiver.schema(T);
    int snapshots = quiver.snapshots(T).size();

    assertInvalid("ALTER TABLE ns.t DROP COLUMN missing", "Table ns.t has no column missing");
    assertInvalid("ALTER TABLE ns.t RENAME COLUMN missing TO x", "no column missing");
    assertInvalid("ALTER TABLE ns.t ALTER COLUMN missing TYPE BIGINT", "no column missing");
    assertInvalid("ALTER TABLE ns.t ALTER COLUMN missing DROP NOT NULL", "no column missing");
    assertInvalid("ALTER TABLE ns.t ADD COLUMN NAME VARCHAR", "already has a column name");
    assertInvalid("ALTER TABLE ns.t RENAME COLUMN id TO price", "already has a column price");
    assertInvalid("ALTER TABLE ns.t ALTER COLUMN name TYPE INTEGER", "Cannot change column name");
    assertInvalid(
        "ALTER TABLE ns.t ALTER COLUMN price TYPE DECIMAL(9,2)", "Cannot change column price");
    assertInvalid("ALTER TABLE ns.t ALTER COLUMN ratio TYPE INTEGER", "Cannot change column ratio");
    assertInvalid("ALTER TABLE ns.t ADD COLUMN must BIGINT NOT NULL", "Cannot add column must");
    assertInvalid("ALTER TABLE ns.t DROP COLUMN id", "Cannot drop column id");
    sql.executeUpdate("ALTER TABLE ns.t ALTER COLUMN id TYPE BIGINT");
    assertInvalid("ALTER TABLE ns.t ALTER COLUMN id TYPE INTEGER", "Cannot change column id");

    sql.executeUpdate("CREATE TABLE ns.one (solo BIGINT)");
    assertInvalid("ALTER TABLE ns.one DROP COLUMN solo", "it is the last column of table ns.one");

    assertUnimplemented("ALTER TABLE ns.t RENAME TO u", "RENAME TO");
    assertUnimplemented("ALTER TABLE ns.t ALTER COLUMN id SET DEFAULT 1", "SET DEFAULT 1");
    assertUnimplemented("ALTER TABLE ns.t ADD CONSTRAINT c UNIQUE (id)", "ADD CONSTRAINT");
    assertUnimplemented("ALTER TABLE ns.t ADD COLUMN x INTEGER DEFAULT 3", "DEFAULT");
    assertUnimplemented("ALTER TABLE ns.t ADD COLUMN x STRUCT(a INTEGER)", "scalar type");

    assertThat(quiver.snapshots(T)).hasSize(snapshots);
    Schema after = quiver.schema(T);
    assertThat(after.getFields()).extracting(Field::getName).isEqualTo(names(before));
    assertThat(rows("SELECT id, name FROM ns.t ORDER BY id")).containsExactly("1|one", "2|two");
  }

  @Test
  void anUpsertAfterARenameMatchesKeysByFieldId(BufferAllocator allocator) throws Exception {
    sql.executeUpdate("ALTER TABLE ns.t RENAME COLUMN id TO key");
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(quiver.schema(T), allocator)) {
      batch.allocateNew();
      ((IntVector) batch.getVector("key")).setSafe(0, 2);
      ((VarCharVector) batch.getVector("name")).setSafe(0, "TWO".getBytes(StandardCharsets.UTF_8));
      ((Float4Vector) batch.getVector("ratio")).setSafe(0, 2f);
      ((DecimalVector) batch.getVector("price")).setSafe(0, new BigDecimal("2.00"));
      batch.setRowCount(1);
      try (ArrowReader rows = TestReaders.repeating(allocator, batch, 1)) {
        quiver.put(T, rows, PutOptions.upsert("key"));
      }
    }

    assertThat(rows("SELECT key, name FROM ns.t ORDER BY key")).containsExactly("1|one", "2|TWO");
  }

  @Test
  void aPutWithAddColumnsAddsTheNullableColumnsItCarries(BufferAllocator allocator)
      throws Exception {
    sql.executeUpdate("CREATE TABLE ns.wide (id BIGINT)");
    sql.executeUpdate("INSERT INTO ns.wide VALUES (1)");
    Schema extra =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("note", ArrowType.Utf8.INSTANCE),
                Field.nullable(
                    "score", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))));
    PutCommand.Builder command =
        PutCommand.newBuilder().setTable(TableRef.newBuilder().setNamespace("ns").setName("wide"));

    // Without add_columns the put is refused as before, and so is a not-null new column.
    assertThatThrownBy(() -> rawPut(allocator, command.build(), extra))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("column note is in the stream but not in the table");
    Schema strict =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.notNullable("must", ArrowType.Utf8.INSTANCE)));
    assertThatThrownBy(() -> rawPut(allocator, command.clone().setAddColumns(true).build(), strict))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("Cannot add column must to table ns.wide");
    assertThat(quiver.schema(TableId.of("ns", "wide")).getFields()).hasSize(1);

    rawPut(allocator, command.clone().setAddColumns(true).build(), extra);

    assertThat(quiver.schema(TableId.of("ns", "wide")).getFields())
        .extracting(Field::getName)
        .containsExactly("id", "note", "score");
    assertThat(rows("SELECT * FROM ns.wide ORDER BY id"))
        .containsExactly("1|null|null", "2|two|2.5");
  }

  /** Puts one row (id 2, then "two" and 2.5 in the columns that take them) with {@code command}. */
  private void rawPut(BufferAllocator allocator, PutCommand command, Schema schema)
      throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      root.allocateNew();
      ((BigIntVector) root.getVector("id")).setSafe(0, 2);
      for (Field field : schema.getFields()) {
        if (field.getType() instanceof ArrowType.Utf8) {
          ((VarCharVector) root.getVector(field.getName()))
              .setSafe(0, "two".getBytes(StandardCharsets.UTF_8));
        } else if (field.getType() instanceof ArrowType.FloatingPoint) {
          ((Float8Vector) root.getVector(field.getName())).setSafe(0, 2.5);
        }
      }
      root.setRowCount(1);
      FlightClient.ClientStreamListener stream =
          flight.startPut(
              FlightDescriptor.command(Any.pack(command).toByteArray()), root, listener);
      stream.putNext();
      stream.completed();
      stream.getResult();
    }
  }

  @Test
  void equalityDeletesOfAnotherEngineStillApplyAfterARename() throws Exception {
    sql.executeUpdate("CREATE TABLE ns.e (k BIGINT, v VARCHAR)");
    sql.executeUpdate("INSERT INTO ns.e VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    try (OtherEngine other = OtherEngine.local(dataDir)) {
      other.deleteEqual(other.table("ns", "e"), "k", List.of(2L));
    }

    sql.executeUpdate("ALTER TABLE ns.e RENAME COLUMN k TO key");

    assertThat(rows("SELECT key, v FROM ns.e ORDER BY key")).containsExactly("1|a", "3|c");
    List<String> scanned = new ArrayList<>();
    try (ArrowReader reader = quiver.scan(TableId.of("ns", "e"))) {
      while (reader.loadNextBatch()) {
        addRows(reader.getVectorSchemaRoot(), scanned);
      }
    }
    assertThat(scanned).containsExactly("1|a", "3|c");
  }

  @Test
  void aChangeAnotherEngineCommitsIsReadByFieldId() throws Exception {
    try (OtherEngine other = OtherEngine.local(dataDir)) {
      other
          .table("ns", "t")
          .updateSchema()
          .renameColumn("name", "label")
          .updateColumn("id", org.apache.iceberg.types.Types.LongType.get())
          .deleteColumn("ratio")
          .commit();
    }

    assertThat(quiver.schema(T).getFields())
        .extracting(Field::getName)
        .containsExactly("id", "label", "price");
    assertThat(scan()).containsExactly("1|one|1.25", "2|two|2.50");
    assertThat(rows("SELECT label FROM ns.t WHERE id = 2")).containsExactly("two");
  }

  @Test
  void alterInsideATransactionIsRefused() throws Exception {
    FlightSqlClient.Transaction transaction = sql.beginTransaction();
    assertUnimplementedIn(
        transaction,
        "ALTER TABLE ns.t ADD COLUMN note VARCHAR",
        "ALTER TABLE is not supported inside a transaction");
    sql.rollback(transaction);

    assertThat(names(quiver.schema(T))).containsExactly("id", "name", "ratio", "price");
  }

  private void assertUnimplementedIn(
      FlightSqlClient.Transaction transaction, String statement, String message) {
    assertRefused(
        () -> sql.executeUpdate(statement, transaction),
        statement,
        FlightStatusCode.UNIMPLEMENTED,
        message);
  }

  @Test
  void aTableWithAFileWithoutFieldIdsIsRefused() throws Exception {
    sql.executeUpdate("CREATE TABLE ns.foreign (id BIGINT)");
    try (OtherEngine other = OtherEngine.local(dataDir)) {
      other.append(other.table("ns", "foreign"), "SELECT 5::BIGINT AS id", "", 1);
    }

    assertThatThrownBy(() -> sql.executeUpdate("ALTER TABLE ns.foreign ADD COLUMN x BIGINT"))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNIMPLEMENTED))
        .hasMessageContaining("Cannot change the schema of table ns.foreign")
        .hasMessageContaining("has no Parquet field ids");
    assertThat(rows("SELECT * FROM ns.foreign")).containsExactly("5");
  }

  @Test
  void aPutRunningDuringAnAlterLands(BufferAllocator allocator) throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(quiver.schema(T), allocator)) {
      batch.allocateNew();
      ((IntVector) batch.getVector("id")).setSafe(0, 10);
      ((VarCharVector) batch.getVector("name")).setSafe(0, "put".getBytes(StandardCharsets.UTF_8));
      ((Float4Vector) batch.getVector("ratio")).setSafe(0, 1f);
      ((DecimalVector) batch.getVector("price")).setSafe(0, new BigDecimal("1.00"));
      batch.setRowCount(1);
      try (ArrowReader batches = TestReaders.gated(allocator, batch, 2, 1, gate)) {
        Thread put = new Thread(() -> quiver.put(T, batches));
        put.start();
        // The put is writing: it has loaded the table and checked its stream against the old
        // schema.
        Await.until(() -> !server.store().liveUploads().isEmpty(), "the put to reach the server");

        sql.executeUpdate("ALTER TABLE ns.t ADD COLUMN note VARCHAR");
        gate.countDown();
        Await.join(put);
      }
    }

    assertThat(rows("SELECT id, note FROM ns.t ORDER BY id"))
        .containsExactly("1|null", "2|null", "10|null", "10|null");
  }

  @Test
  void filteredProjectedAndIncrementalScansFindColumnsByFieldId() throws Exception {
    sql.executeUpdate("ALTER TABLE ns.t RENAME COLUMN name TO label");
    sql.executeUpdate("ALTER TABLE ns.t DROP COLUMN ratio");
    sql.executeUpdate("ALTER TABLE ns.t ADD COLUMN ratio DOUBLE");
    long before = last(quiver.snapshots(T)).snapshotId();
    sql.executeUpdate("INSERT INTO ns.t VALUES (3, 'three', 3.75, 9.5)");

    assertThat(scan(ScanOptions.builder().columns("label", "ratio").build()))
        .containsExactly("one|null", "two|null", "three|9.5");
    assertThat(scan(ScanOptions.builder().filter(Filters.eq("label", "two")).build()))
        .containsExactly("2|two|2.50|null");
    assertThat(scan(ScanOptions.builder().filter(Filters.isNull("ratio")).build()))
        .containsExactly("1|one|1.25|null", "2|two|2.50|null");
    assertThat(scan(ScanOptions.builder().fromSnapshotId(before).build()))
        .containsExactly("3|three|3.75|9.5");
    // Time travel reads an older snapshot's files with the current schema.
    assertThat(
            scan(
                ScanOptions.builder()
                    .snapshotId(before)
                    .filter(Filters.eq("label", "two"))
                    .build()))
        .containsExactly("2|two|2.50|null");
  }

  @Test
  void anArrowDatasetServerScansAChangedTableThroughDuckDb(BufferAllocator allocator)
      throws Exception {
    QuiverServer other =
        servers.start(
            dataDir.resolve("arrow-dataset"),
            "memory.total",
            "256MB",
            "scan.engine",
            "arrow-dataset");
    try (FlightClient otherFlight = FlightClient.builder(allocator, other.location()).build();
        FlightSqlClient otherSql = new FlightSqlClient(otherFlight);
        QuiverClient otherQuiver = QuiverClient.connect(other.location())) {
      otherSql.executeUpdate("CREATE TABLE ns.t (id BIGINT, name VARCHAR)");
      otherSql.executeUpdate("INSERT INTO ns.t VALUES (1, 'one')");
      otherSql.executeUpdate("ALTER TABLE ns.t DROP COLUMN name");
      otherSql.executeUpdate("ALTER TABLE ns.t ADD COLUMN name VARCHAR");

      List<String> rows = new ArrayList<>();
      try (ArrowReader reader = otherQuiver.scan(T)) {
        while (reader.loadNextBatch()) {
          addRows(reader.getVectorSchemaRoot(), rows);
        }
      }
      assertThat(rows).containsExactly("1|null");
    }
  }

  private static SnapshotInfo last(List<SnapshotInfo> snapshots) {
    return snapshots.get(snapshots.size() - 1);
  }

  private void assertInvalid(String statement, String message) {
    assertRefused(
        () -> sql.executeUpdate(statement), statement, FlightStatusCode.INVALID_ARGUMENT, message);
  }

  private void assertUnimplemented(String statement, String message) {
    assertRefused(
        () -> sql.executeUpdate(statement), statement, FlightStatusCode.UNIMPLEMENTED, message);
  }

  private static void assertRefused(
      ThrowingCallable call, String statement, FlightStatusCode code, String message) {
    assertThatThrownBy(call)
        .as(statement)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class, e -> assertThat(e.status().code()).isEqualTo(code))
        .hasMessageContaining(message);
  }

  private static List<String> names(Schema schema) {
    return schema.getFields().stream().map(Field::getName).toList();
  }

  /** The rows of a SQL query, each as its values joined by |. */
  private List<String> rows(String query) throws Exception {
    FlightInfo info = sql.execute(query);
    List<String> rows = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = flight.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          addRows(stream.getRoot(), rows);
        }
      }
    }
    return rows;
  }

  /** The rows of the table through DoGet, in table order, each as its values joined by |. */
  private List<String> scan() throws Exception {
    return scan(ScanOptions.all());
  }

  private List<String> scan(ScanOptions options) throws Exception {
    List<String> rows = new ArrayList<>();
    try (ArrowReader reader = quiver.scan(T, options)) {
      while (reader.loadNextBatch()) {
        addRows(reader.getVectorSchemaRoot(), rows);
      }
    }
    return rows;
  }

  private static void addRows(VectorSchemaRoot root, List<String> rows) {
    for (int i = 0; i < root.getRowCount(); i++) {
      List<String> values = new ArrayList<>();
      for (int c = 0; c < root.getFieldVectors().size(); c++) {
        values.add(Objects.toString(root.getVector(c).getObject(i)));
      }
      rows.add(String.join("|", values));
    }
  }
}
