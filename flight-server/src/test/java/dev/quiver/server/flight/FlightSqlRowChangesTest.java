package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** DELETE and UPDATE through Flight SQL, copy-on-write, against a real in-process server. */
@ExtendWith(ArrowAllocatorExtension.class)
class FlightSqlRowChangesTest {
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
    // Three commits, three files: ids 0..9, 10..19, 20..29.
    sql.executeUpdate("CREATE TABLE ns.t (id BIGINT, label VARCHAR, amount DOUBLE)");
    for (int file = 0; file < 3; file++) {
      sql.executeUpdate(
          "INSERT INTO ns.t SELECT range, 'row ' || range, range / 2 FROM range("
              + file * 10
              + ", "
              + (file + 1) * 10
              + ")");
    }
  }

  @AfterEach
  void stop() throws Exception {
    sql.close();
    quiver.close();
  }

  @Test
  void deleteRemovesMatchingRowsInOneCommit() throws Exception {
    List<SnapshotInfo> before = snapshots();

    long deleted = sql.executeUpdate("DELETE FROM ns.t WHERE id < 3 OR id >= 20");

    assertThat(deleted).isEqualTo(13);
    assertThat(ids("SELECT id FROM ns.t ORDER BY id")).isEqualTo(range(3, 20));
    List<SnapshotInfo> after = snapshots();
    assertThat(after).hasSize(before.size() + 1);
    SnapshotInfo delete = after.get(after.size() - 1);
    assertThat(delete.operation()).isEqualTo("overwrite");
    assertThat(delete.totalRecords()).isEqualTo(17);
    // The first file is rewritten without rows 0..2, the third removed, the second untouched.
    assertThat(delete.addedRecords()).isEqualTo(7);
    assertThat(delete.addedFiles()).isEqualTo(1);
  }

  @Test
  void deleteWithoutWhereEmptiesTheTable() throws Exception {
    assertThat(sql.executeUpdate("DELETE FROM ns.t")).isEqualTo(30);

    assertThat(ids("SELECT id FROM ns.t")).isEmpty();
    assertThat(snapshots().get(snapshots().size() - 1).totalRecords()).isZero();
  }

  @Test
  void aConditionMatchingNothingCommitsNothing() throws Exception {
    List<SnapshotInfo> before = snapshots();

    assertThat(sql.executeUpdate("DELETE FROM ns.t WHERE id > 1000")).isZero();
    assertThat(sql.executeUpdate("DELETE FROM ns.t WHERE label = 'row 5' AND id = 6")).isZero();
    assertThat(sql.executeUpdate("UPDATE ns.t SET label = 'x' WHERE amount < 0")).isZero();

    assertThat(snapshots()).isEqualTo(before);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);
  }

  @Test
  void deleteConditionsUseDuckDbExpressionsAndSubqueries() throws Exception {
    sql.executeUpdate("CREATE TABLE ns.gone (id BIGINT)");
    sql.executeUpdate("INSERT INTO ns.gone VALUES (4), (14), (24)");

    assertThat(
            sql.executeUpdate(
                "DELETE FROM ns.t WHERE id IN (SELECT id FROM ns.gone) OR label LIKE '%9'"))
        .isEqualTo(6);

    assertThat(ids("SELECT id FROM ns.t WHERE id % 10 IN (4, 9) ORDER BY id")).isEmpty();
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(24L);
  }

  @Test
  void updateRewritesMatchingRowsAndKeepsTheOthers() throws Exception {
    long updated =
        sql.executeUpdate(
            "UPDATE ns.t SET label = upper(t.label), amount = amount * 100 WHERE id % 10 = 1");

    assertThat(updated).isEqualTo(3);
    assertThat(rows("SELECT id, label, amount FROM ns.t WHERE id IN (1, 2, 21) ORDER BY id"))
        .containsExactly(
            List.of(1L, "ROW 1", 50.0), List.of(2L, "row 2", 1.0), List.of(21L, "ROW 21", 1050.0));
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);
    SnapshotInfo update = snapshots().get(snapshots().size() - 1);
    assertThat(update.totalRecords()).isEqualTo(30);
  }

  @Test
  void updateWithoutWhereChangesEveryRowAndCastsToTheColumnType() throws Exception {
    assertThat(sql.executeUpdate("UPDATE ns.t SET amount = 7, id = id + 100")).isEqualTo(30);

    assertThat(ids("SELECT min(id) FROM ns.t")).containsExactly(100L);
    assertThat(rows("SELECT DISTINCT amount FROM ns.t")).containsExactly(List.of(7.0));
  }

  @Test
  void anUpdateThatWouldPutNullInANotNullColumnCommitsNothing(BufferAllocator allocator)
      throws Exception {
    TableId required = TableId.of("ns", "required");
    Schema schema = new Schema(List.of(Field.notNullable("id", new ArrowType.Int(64, true))));
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      BigIntVector ids = (BigIntVector) root.getVector(0);
      for (int i = 0; i < 5; i++) {
        ids.setSafe(i, i);
      }
      root.setRowCount(5);
      quiver.put(required, root);
    }
    List<SnapshotInfo> before = quiver.snapshots(required);

    assertRefused(
        "UPDATE ns.required SET id = CASE WHEN id > 2 THEN NULL ELSE id END",
        FlightStatusCode.INVALID_ARGUMENT,
        "Column id of table ns.required is NOT NULL but the UPDATE sets it to NULL in 2 rows");

    assertThat(quiver.snapshots(required)).isEqualTo(before);
    assertThat(sql.executeUpdate("UPDATE ns.required SET id = id * 10 WHERE id > 2")).isEqualTo(2);
    assertThat(ids("SELECT id FROM ns.required ORDER BY id")).containsExactly(0L, 1L, 2L, 30L, 40L);
  }

  @Test
  void preparedDeleteAndUpdateBindTheirParameters(BufferAllocator allocator) throws Exception {
    try (FlightSqlClient.PreparedStatement delete = sql.prepare("DELETE FROM ns.t WHERE id = ?");
        VectorSchemaRoot parameters =
            VectorSchemaRoot.create(delete.getParameterSchema(), allocator)) {
      assertThat(delete.getParameterSchema().getFields().get(0).getType())
          .isEqualTo(new ArrowType.Int(64, true));
      ((BigIntVector) parameters.getVector(0)).setSafe(0, 7);
      parameters.setRowCount(1);
      delete.setParameters(parameters);
      assertThat(delete.executeUpdate()).isEqualTo(1);
    }
    try (FlightSqlClient.PreparedStatement update =
            sql.prepare("UPDATE ns.t SET label = 'x' || ? WHERE id > ?");
        VectorSchemaRoot parameters =
            VectorSchemaRoot.create(update.getParameterSchema(), allocator)) {
      assertThat(update.getParameterSchema().getFields()).hasSize(2);
      parameters.allocateNew();
      ((org.apache.arrow.vector.VarCharVector) parameters.getVector(0))
          .setSafe(0, "y".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      ((BigIntVector) parameters.getVector(1)).setSafe(0, 27);
      parameters.setRowCount(1);
      update.setParameters(parameters);
      assertThat(update.executeUpdate()).isEqualTo(2);
    }
    assertThat(rows("SELECT id, label FROM ns.t WHERE id > 26 OR id BETWEEN 6 AND 8 ORDER BY id"))
        .containsExactly(
            List.of(6L, "row 6"),
            List.of(8L, "row 8"),
            List.of(27L, "row 27"),
            List.of(28L, "xy"),
            List.of(29L, "xy"));
  }

  @Test
  void mergeDeletesUpdatesAndInsertsInOneCommit() throws Exception {
    sql.executeUpdate("CREATE TABLE ns.src (id BIGINT, label VARCHAR)");
    sql.executeUpdate(
        "INSERT INTO ns.src VALUES (2, 'two'), (5, 'gone'), (40, 'forty'), (41, 'forty-one')");
    List<SnapshotInfo> before = snapshots();

    long changed =
        sql.executeUpdate(
            "MERGE INTO ns.t USING ns.src AS s ON t.id = s.id"
                + " WHEN MATCHED AND s.label = 'gone' THEN DELETE"
                + " WHEN MATCHED THEN UPDATE SET label = s.label"
                + " WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.label, 0)");

    assertThat(changed).isEqualTo(4);
    assertThat(rows("SELECT id, label FROM ns.t WHERE id IN (1, 2, 5, 40, 41) ORDER BY id"))
        .containsExactly(
            List.of(1L, "row 1"),
            List.of(2L, "two"),
            List.of(40L, "forty"),
            List.of(41L, "forty-one"));
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(31L);
    List<SnapshotInfo> after = snapshots();
    assertThat(after).hasSize(before.size() + 1);
    // Only the first file held matched rows: it is rewritten with the inserted rows.
    assertThat(after.get(after.size() - 1).addedRecords()).isEqualTo(11);
  }

  @Test
  void mergeTakesAQueryAsSourceAndWorksOnAnEmptyTable() throws Exception {
    String merge =
        "MERGE INTO %s AS target USING (SELECT range AS id FROM range(25, 35)) AS s"
            + " ON target.id = s.id"
            + " WHEN MATCHED THEN UPDATE SET amount = -1"
            + " WHEN NOT MATCHED THEN INSERT (id, label, amount) VALUES (s.id, 'new', 1)";
    assertThat(sql.executeUpdate(String.format(merge, "ns.t"))).isEqualTo(10);
    assertThat(ids("SELECT count(*) FROM ns.t WHERE amount = -1")).containsExactly(5L);
    assertThat(ids("SELECT id FROM ns.t WHERE label = 'new' ORDER BY id")).isEqualTo(range(30, 35));

    sql.executeUpdate("CREATE TABLE ns.empty (id BIGINT, label VARCHAR, amount DOUBLE)");
    assertThat(sql.executeUpdate(String.format(merge, "ns.empty"))).isEqualTo(10);
    assertThat(ids("SELECT id FROM ns.empty ORDER BY id")).isEqualTo(range(25, 35));
  }

  @Test
  void aMergeWhoseSourceMatchesATargetRowTwiceCommitsNothing() throws Exception {
    List<SnapshotInfo> before = snapshots();

    assertRefused(
        "MERGE INTO ns.t USING (SELECT 3 AS id, 'a' AS label UNION ALL SELECT 3, 'b') s"
            + " ON t.id = s.id WHEN MATCHED THEN UPDATE SET label = s.label",
        FlightStatusCode.INVALID_ARGUMENT,
        "MERGE source matches a target row of table ns.t more than once");
    assertRefused(
        "MERGE INTO ns.t USING ns.t s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE",
        FlightStatusCode.UNIMPLEMENTED,
        "NOT MATCHED BY SOURCE");

    assertThat(snapshots()).isEqualTo(before);
  }

  @Test
  void aDeleteStreamsALargeTableInsideASmallQueryLimit(
      BufferAllocator allocator, @TempDir Path smallDir) throws Exception {
    QuiverServer small =
        servers.start(
            smallDir, "memory.total", "512MB", "memory.query-limit", "8MB", "sql.threads", "2");
    try (FlightSqlClient client =
        new FlightSqlClient(FlightClient.builder(allocator, small.location()).build())) {
      // 2M rows are about 50MB as Arrow, so no call could hold them under an 8MB limit.
      client.executeUpdate(
          "CREATE TABLE ns.big AS SELECT range AS id, 'label ' || range AS label"
              + " FROM range(2000000)");

      assertThat(client.executeUpdate("DELETE FROM ns.big WHERE id % 10 = 0")).isEqualTo(200_000);
      assertThat(client.executeUpdate("UPDATE ns.big SET label = 'x' WHERE id % 10 = 1"))
          .isEqualTo(200_000);

      FlightInfo info =
          client.execute("SELECT count(*), count(*) FILTER (label = 'x') FROM ns.big");
      try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
        assertThat(stream.next()).isTrue();
        assertThat(stream.getRoot().getVector(0).getObject(0)).isEqualTo(1_800_000L);
        assertThat(stream.getRoot().getVector(1).getObject(0)).isEqualTo(200_000L);
      }
    }
  }

  @Test
  void badInputNamesTheProblemAndCommitsNothing() throws Exception {
    List<SnapshotInfo> before = snapshots();

    assertRefused("DELETE FROM ns.t WHERE nope = 1", FlightStatusCode.INVALID_ARGUMENT, "\"nope\"");
    assertRefused("UPDATE ns.t SET nope = 1", FlightStatusCode.INVALID_ARGUMENT, "no column nope");
    assertRefused(
        "UPDATE ns.t SET label = 'x' WHERE nope > 1", FlightStatusCode.INVALID_ARGUMENT, "nope");
    assertRefused(
        "UPDATE ns.t SET amount = 'not a number' WHERE id = 5",
        FlightStatusCode.INVALID_ARGUMENT,
        "not a number");
    assertRefused(
        "UPDATE ns.t SET id = 1, ID = 2", FlightStatusCode.INVALID_ARGUMENT, "sets column");
    assertRefused("DELETE FROM ns.missing", FlightStatusCode.NOT_FOUND, "ns.missing");
    assertRefused(
        "DELETE FROM ns.t WHERE id = 1 RETURNING id",
        FlightStatusCode.UNIMPLEMENTED,
        "RETURNING is not supported");

    assertThat(snapshots()).isEqualTo(before);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);
  }

  private void assertRefused(String statement, FlightStatusCode code, String message) {
    assertThatThrownBy(() -> sql.executeUpdate(statement))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class, e -> assertThat(e.status().code()).isEqualTo(code))
        .hasMessageContaining(message);
  }

  private List<SnapshotInfo> snapshots() {
    return quiver.snapshots(TableId.of("ns", "t"));
  }

  private List<Long> ids(String query) throws Exception {
    List<Long> out = new ArrayList<>();
    for (List<Object> row : rows(query)) {
      out.add(((Number) row.get(0)).longValue());
    }
    return out;
  }

  private List<List<Object>> rows(String query) throws Exception {
    FlightInfo info = sql.execute(query);
    List<List<Object>> out = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = flight.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            Object[] row = new Object[root.getFieldVectors().size()];
            for (int c = 0; c < row.length; c++) {
              Object value = root.getVector(c).getObject(i);
              row[c] =
                  value instanceof org.apache.arrow.vector.util.Text ? value.toString() : value;
            }
            out.add(Arrays.asList(row));
          }
        }
      }
    }
    return out;
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i < to; i++) {
      out.add(i);
    }
    return out;
  }
}
