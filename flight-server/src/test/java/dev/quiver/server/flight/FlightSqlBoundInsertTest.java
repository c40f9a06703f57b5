package dev.quiver.server.flight;

import static dev.quiver.server.flight.FlightSqlTest.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementResult;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.DoPutUpdateResult;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prepared {@code INSERT ... VALUES (?, ...)} bound with many parameter rows, as JDBC's
 * executeBatch and ADBC's bulk ingest send it: one DoPut is one commit, or none.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class FlightSqlBoundInsertTest {
  private static final TableId TABLE = TableId.of("ns", "bulk");
  private static final String CREATE =
      "CREATE TABLE ns.bulk (id BIGINT, label VARCHAR, amount DOUBLE)";

  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = FlightSqlTest.startServer(servers, dataDir);
  }

  @Test
  void manyRowsInSeveralBatchesAreOneSnapshot(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate(CREATE);
      sql.executeUpdate("INSERT INTO ns.bulk VALUES (-1, 'first', 0)");
      ByteString handle = prepare(flight, "INSERT INTO ns.bulk VALUES (?, ?, ?)");
      Schema parameters = parameterSchema(flight, "INSERT INTO ns.bulk VALUES (?, ?, ?)");
      assertThat(parameters.getFields())
          .extracting(Field::getType)
          .containsExactly(
              new ArrowType.Int(64, true),
              ArrowType.Utf8.INSTANCE,
              new ArrowType.FloatingPoint(
                  org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE));

      long count = putRows(flight, allocator, handle, parameters, 4, 2_500);

      assertThat(count).isEqualTo(10_000);
      List<SnapshotInfo> snapshots = snapshots();
      assertThat(snapshots).hasSize(2);
      assertThat(snapshots.get(1).addedRecords()).isEqualTo(10_000);
      assertThat(snapshots.get(1).totalRecords()).isEqualTo(10_001);
      assertThat(
              longs(
                  flight,
                  sql.execute(
                      "SELECT count(*) AS n FROM ns.bulk WHERE id >= 0 AND label = 'row-' || id"
                          + " AND amount = id * 0.5"),
                  "n"))
          .containsExactly(10_000L);
      assertThat(longs(flight, sql.execute("SELECT sum(id) AS s FROM ns.bulk"), "s"))
          .containsExactly(10_000L * 9_999 / 2 - 1);
    }
    awaitGovernorEmpty();
  }

  @Test
  void aColumnListPairsParametersByNameAndLeavesTheRestNull(BufferAllocator allocator)
      throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate(CREATE);
      String insert = "INSERT INTO ns.bulk (label, id) VALUES (?, ?)";
      Schema parameters = parameterSchema(flight, insert);
      assertThat(parameters.getFields())
          .extracting(Field::getType)
          .containsExactly(ArrowType.Utf8.INSTANCE, new ArrowType.Int(64, true));
      try (VectorSchemaRoot root = VectorSchemaRoot.create(parameters, allocator)) {
        ((VarCharVector) root.getVector(0)).setSafe(0, "seven".getBytes(StandardCharsets.UTF_8));
        ((BigIntVector) root.getVector(1)).setSafe(0, 7);
        root.setRowCount(1);
        assertThat(put(flight, prepare(flight, insert), root, 1)).isEqualTo(1);
      }
      assertThat(
              longs(
                  flight,
                  sql.execute("SELECT id FROM ns.bulk WHERE label = 'seven' AND amount IS NULL"),
                  "id"))
          .containsExactly(7L);
    }
    awaitGovernorEmpty();
  }

  @Test
  void parametersOfOtherTypesAreCastAndABadValueCommitsNothing(BufferAllocator allocator)
      throws Exception {
    Schema strings =
        new Schema(
            List.of(
                Field.nullable("a", ArrowType.Utf8.INSTANCE),
                Field.nullable("b", ArrowType.Utf8.INSTANCE),
                Field.nullable("c", ArrowType.Utf8.INSTANCE)));
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate(CREATE);
      ByteString handle = prepare(flight, "INSERT INTO ns.bulk VALUES (?, ?, ?)");
      try (VectorSchemaRoot root = VectorSchemaRoot.create(strings, allocator)) {
        // label is VARCHAR, so it moves as it is; id and amount are cast.
        fillStrings(root, List.of("40", "forty", "2.5"), List.of("41", "forty-one", "3.5"));
        assertThat(put(flight, handle, root, 2)).isEqualTo(4);
        assertThat(snapshots()).hasSize(1);

        fillStrings(root, List.of("42", "ok", "1"), List.of("not a number", "x", "1"));
        assertThatThrownBy(() -> put(flight, handle, root, 2))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
            .hasMessageContaining("not a number");
      }
      assertThat(snapshots()).hasSize(1);
      assertThat(
              longs(
                  flight,
                  sql.execute(
                      "SELECT id FROM ns.bulk WHERE label = CASE id WHEN 40 THEN 'forty' ELSE"
                          + " 'forty-one' END AND amount = id - 37.5"),
                  "id"))
          .containsExactly(40L, 41L, 40L, 41L);
    }
    awaitGovernorEmpty();
  }

  @Test
  void aClientThatCancelsMidUploadCommitsNothing(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate(CREATE);
      sql.executeUpdate("INSERT INTO ns.bulk VALUES (1, 'one', 1)");
      String insert = "INSERT INTO ns.bulk VALUES (?, ?, ?)";
      ByteString handle = prepare(flight, insert);
      try (VectorSchemaRoot root =
              VectorSchemaRoot.create(parameterSchema(flight, insert), allocator);
          SyncPutListener listener = new SyncPutListener()) {
        FlightClient.ClientStreamListener stream =
            flight.startPut(descriptor(handle), root, listener);
        for (int b = 0; b < 5; b++) {
          fill(root, b * 1_000L, 1_000);
          stream.putNext();
        }
        Await.until(() -> server.memory().report().calls().size() == 1, "the put to arrive");
        stream.error(new RuntimeException("the client gives up"));
        assertThatThrownBy(() -> updateCount(listener))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.CANCELLED))
            .hasMessageContaining("Cancelled by client");
      }
      awaitGovernorEmpty();
      assertThat(snapshots()).hasSize(1);
      assertThat(longs(flight, sql.execute("SELECT count(*) AS n FROM ns.bulk"), "n"))
          .containsExactly(1L);
    }
  }

  @Test
  void anInsertSelectBoundWithSeveralRowsRunsPerRowAndCommitsOnce(BufferAllocator allocator)
      throws Exception {
    Schema one = new Schema(List.of(Field.nullable("a", new ArrowType.Int(64, true))));
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate(CREATE);
      ByteString handle = prepare(flight, "INSERT INTO ns.bulk SELECT ?, 'x', 1.0");
      try (VectorSchemaRoot root = VectorSchemaRoot.create(one, allocator)) {
        BigIntVector ids = (BigIntVector) root.getVector(0);
        ids.setSafe(0, 1);
        ids.setSafe(1, 2);
        root.setRowCount(2);
        assertThat(put(flight, handle, root, 2)).isEqualTo(4);
      }
      assertThat(snapshots()).hasSize(1);
      assertThat(snapshots().get(0).addedRecords()).isEqualTo(4);
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.bulk ORDER BY id"), "id"))
          .containsExactly(1L, 1L, 2L, 2L);
    }
    awaitGovernorEmpty();
  }

  @Test
  void createTableRefusesSeveralRows(BufferAllocator allocator) throws Exception {
    Schema one = new Schema(List.of(Field.nullable("a", new ArrowType.Int(64, true))));
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      ByteString handle = prepare(flight, "CREATE TABLE ns.made AS SELECT ? AS id");
      try (VectorSchemaRoot root = VectorSchemaRoot.create(one, allocator)) {
        BigIntVector ids = (BigIntVector) root.getVector(0);
        ids.setSafe(0, 1);
        ids.setSafe(1, 2);
        root.setRowCount(2);
        assertThatThrownBy(() -> put(flight, handle, root, 1))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
            .hasMessageContaining("more than one row of parameters")
            .hasMessageContaining("CREATE TABLE or DROP TABLE runs once");
      }
      assertThatThrownBy(() -> sql.execute("SELECT * FROM ns.made"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("ns.made");
    }
    awaitGovernorEmpty();
  }

  private long putRows(
      FlightClient flight,
      BufferAllocator allocator,
      ByteString handle,
      Schema parameters,
      int batches,
      int rowsPerBatch)
      throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(parameters, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream =
          flight.startPut(descriptor(handle), root, listener);
      for (int b = 0; b < batches; b++) {
        fill(root, (long) b * rowsPerBatch, rowsPerBatch);
        stream.putNext();
      }
      stream.completed();
      return updateCount(listener);
    }
  }

  /** Sends {@code root} {@code times} times as the batches of one DoPut; the update count. */
  private static long put(FlightClient flight, ByteString handle, VectorSchemaRoot root, int times)
      throws Exception {
    try (SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream =
          flight.startPut(descriptor(handle), root, listener);
      for (int i = 0; i < times; i++) {
        stream.putNext();
      }
      stream.completed();
      return updateCount(listener);
    }
  }

  /** The update count the server replied with, or the call's failure as Flight reports it. */
  private static long updateCount(SyncPutListener listener) throws Exception {
    try {
      listener.getResult();
    } catch (Exception e) {
      // SyncPutListener rethrows the call's failure inside an ExecutionException, undeclared.
      throw e instanceof ExecutionException && e.getCause() instanceof Exception cause ? cause : e;
    }
    try (PutResult result = listener.read()) {
      ArrowBuf metadata = result.getApplicationMetadata();
      byte[] bytes = new byte[(int) metadata.readableBytes()];
      metadata.getBytes(0, bytes);
      return DoPutUpdateResult.parseFrom(bytes).getRecordCount();
    }
  }

  private static void fill(VectorSchemaRoot root, long first, int rows) {
    BigIntVector ids = (BigIntVector) root.getVector(0);
    VarCharVector labels = (VarCharVector) root.getVector(1);
    Float8Vector amounts = (Float8Vector) root.getVector(2);
    root.allocateNew();
    for (int i = 0; i < rows; i++) {
      long id = first + i;
      ids.setSafe(i, id);
      labels.setSafe(i, ("row-" + id).getBytes(StandardCharsets.UTF_8));
      amounts.setSafe(i, id * 0.5);
    }
    root.setRowCount(rows);
  }

  @SafeVarargs
  private static void fillStrings(VectorSchemaRoot root, List<String>... rows) {
    root.allocateNew();
    for (int r = 0; r < rows.length; r++) {
      for (int c = 0; c < rows[r].size(); c++) {
        ((VarCharVector) root.getVector(c))
            .setSafe(r, rows[r].get(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    root.setRowCount(rows.length);
  }

  private static FlightDescriptor descriptor(ByteString handle) {
    return FlightDescriptor.command(
        Any.pack(
                CommandPreparedStatementUpdate.newBuilder()
                    .setPreparedStatementHandle(handle)
                    .build())
            .toByteArray());
  }

  private static ByteString prepare(FlightClient flight, String sql) throws Exception {
    return createPrepared(flight, sql).getPreparedStatementHandle();
  }

  private static Schema parameterSchema(FlightClient flight, String sql) throws Exception {
    ByteString bytes = createPrepared(flight, sql).getParameterSchema();
    return MessageSerializer.deserializeSchema(
        new ReadChannel(
            java.nio.channels.Channels.newChannel(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))));
  }

  private static ActionCreatePreparedStatementResult createPrepared(FlightClient flight, String sql)
      throws Exception {
    Action action =
        new Action(
            "CreatePreparedStatement",
            Any.pack(ActionCreatePreparedStatementRequest.newBuilder().setQuery(sql).build())
                .toByteArray());
    Iterator<Result> results = flight.doAction(action);
    List<Result> all = new ArrayList<>();
    results.forEachRemaining(all::add);
    return Any.parseFrom(all.get(0).getBody()).unpack(ActionCreatePreparedStatementResult.class);
  }

  private List<SnapshotInfo> snapshots() {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      return client.snapshots(TABLE);
    }
  }

  private void awaitGovernorEmpty() throws InterruptedException {
    servers.awaitMemoryReturned();
  }
}
