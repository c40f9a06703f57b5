package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.quiver.client.Filters;
import dev.quiver.client.PutOptions;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.PutMode;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.sql.PutChanges;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.apache.iceberg.Snapshot;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** DoPut with a PutCommand: append, overwrite and upsert, their receipts and their bad inputs. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class PutModesTest {
  private static final TableId ID = TableId.of("ns", "t");
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable("region", ArrowType.Utf8.INSTANCE),
              Field.nullable("amount", new ArrowType.Int(64, true))));

  @TempDir Path dataDir;
  // Checks every call closed and the memory back to zero after each test, then closes the server.
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB");
  }

  /** A row: id, region, amount; null fields are nulls. */
  private record Row(Long id, String region, Long amount) {
    @Override
    public String toString() {
      return id + ":" + region + ":" + amount;
    }
  }

  private static Row row(long id, String region, long amount) {
    return new Row(id, region, amount);
  }

  @Test
  void appendThroughACommandIsAPathPut(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      PutReceipt path = put(client, allocator, PutOptions.append(), row(1, "eu", 10));
      assertThat(path.mode()).isEqualTo("append");
      assertThat(path.rowsAdded()).isEqualTo(1);
    }
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      PutReceipt command =
          rawPut(
              flight,
              allocator,
              command(PutCommand.newBuilder().setMode(PutMode.PUT_MODE_APPEND)),
              row(2, "us", 20));
      assertThat(command.mode()).isEqualTo("append");
      assertThat(command.rows()).isEqualTo(1);
    }
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      assertThat(rows(client)).containsExactly("1:eu:10", "2:us:20");
    }
  }

  @Test
  void overwriteWithoutFilterReplacesEveryRowInOneCommit(BufferAllocator allocator)
      throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));
      put(client, allocator, PutOptions.append(), row(3, "eu", 30));
      int snapshots = snapshots().size();

      PutReceipt receipt =
          put(client, allocator, PutOptions.overwrite(), row(7, "ap", 70), row(8, "ap", 80));

      assertThat(rows(client)).containsExactly("7:ap:70", "8:ap:80");
      assertThat(receipt.mode()).isEqualTo("overwrite");
      assertThat(receipt.rowsAdded()).isEqualTo(2);
      assertThat(receipt.rowsDeleted()).isEqualTo(3);
      assertThat(receipt.rowsReplaced()).isZero();
      List<Snapshot> after = snapshots();
      assertThat(after).hasSize(snapshots + 1);
      assertThat(after.get(after.size() - 1).operation()).isEqualTo("overwrite");
      assertThat(after.get(after.size() - 1).snapshotId()).isEqualTo(receipt.snapshotId());
    }
  }

  @Test
  void overwriteWithFilterReplacesTheMatchingRowsOnly(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));
      put(client, allocator, PutOptions.append(), row(3, "eu", 30));
      put(client, allocator, PutOptions.append(), row(4, "us", 40));

      PutReceipt receipt =
          put(
              client,
              allocator,
              PutOptions.overwrite(Filters.eq("region", "eu")),
              row(5, "eu", 50));

      assertThat(rows(client)).containsExactly("2:us:20", "4:us:40", "5:eu:50");
      assertThat(receipt.mode()).isEqualTo("overwrite");
      assertThat(receipt.rowsAdded()).isEqualTo(1);
      assertThat(receipt.rowsDeleted()).isEqualTo(2);
      // The put's row, and the us row kept from the first file (rewritten without its eu row).
      assertThat(receipt.rows()).isEqualTo(2);
    }
  }

  @Test
  void overwriteRowsOutsideTheFilterAreRefusedAndNothingCommits(BufferAllocator allocator)
      throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));
      long before = currentSnapshot();
      List<Path> files = dataFiles();

      assertThatThrownBy(
              () ->
                  put(
                      client,
                      allocator,
                      PutOptions.overwrite(Filters.eq("region", "eu")),
                      row(5, "eu", 50),
                      row(6, "us", 60)))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
          .hasMessageContaining(
              "Cannot overwrite rows of table ns.t where region = 'eu': 1 of the put's 2"
                  + " rows do not match the filter; nothing was committed");

      assertThat(currentSnapshot()).isEqualTo(before);
      assertThat(rows(client)).containsExactly("1:eu:10", "2:us:20");
      assertThat(dataFiles()).as("the refused put's staged files are gone").isEqualTo(files);
    }
  }

  @Test
  void upsertReplacesRowsWithAPutKeyAndInsertsTheOthers(BufferAllocator allocator)
      throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));
      put(client, allocator, PutOptions.append(), row(3, "eu", 30), row(4, "us", 40));
      put(client, allocator, PutOptions.append(), row(100, "ap", 1));
      int snapshots = snapshots().size();

      PutReceipt receipt =
          put(
              client,
              allocator,
              PutOptions.upsert("id"),
              row(2, "us", 21),
              row(4, "us", 41),
              row(5, "eu", 50));

      assertThat(rows(client))
          .containsExactly("100:ap:1", "1:eu:10", "2:us:21", "3:eu:30", "4:us:41", "5:eu:50");
      assertThat(receipt.mode()).isEqualTo("upsert");
      assertThat(receipt.rowsReplaced()).isEqualTo(2);
      assertThat(receipt.rowsAdded()).isEqualTo(1);
      assertThat(receipt.rowsDeleted()).isZero();
      // The put's three rows and the two rows kept from the two files it changed; the file of
      // id 100 lies outside the put's key range and is not even read.
      assertThat(receipt.rows()).isEqualTo(5);
      assertThat(snapshots()).hasSize(snapshots + 1);
    }
  }

  @Test
  void upsertOnSeveralKeyColumns(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(1, "us", 20));

      PutReceipt receipt =
          put(client, allocator, PutOptions.upsert("id", "region"), row(1, "us", 21));

      assertThat(rows(client)).containsExactly("1:eu:10", "1:us:21");
      assertThat(receipt.rowsReplaced()).isEqualTo(1);
      assertThat(receipt.rowsAdded()).isZero();
    }
  }

  @Test
  void badUpsertsAreRefusedNamingTheProblemAndCommitNothing(BufferAllocator allocator)
      throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10));
      long before = currentSnapshot();
      List<Path> files = dataFiles();

      assertInvalid(
          () -> put(client, allocator, PutOptions.upsert("customer"), row(1, "eu", 11)),
          "Cannot upsert into table ns.t on key column customer: the table has no such column"
              + " (its columns: id, region, amount)");
      assertInvalid(
          () ->
              put(
                  client,
                  allocator,
                  PutOptions.upsert("id"),
                  row(1, "eu", 11),
                  new Row(null, "us", 12L)),
          "Cannot upsert into table ns.t: key column id is null in 1 of the put's rows;"
              + " nothing was committed");
      assertInvalid(
          () ->
              put(
                  client,
                  allocator,
                  PutOptions.upsert("id", "region"),
                  row(2, "eu", 11),
                  row(2, "eu", 12),
                  row(2, "us", 13)),
          "Cannot upsert into table ns.t: the put holds key (id=2, region=eu) 2 times, and a"
              + " key may appear once; nothing was committed");

      assertThat(currentSnapshot()).isEqualTo(before);
      assertThat(rows(client)).containsExactly("1:eu:10");
      assertThat(dataFiles()).isEqualTo(files);
    }
  }

  @Test
  void commandsThatDoNotFitTheirModeAreRefused(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10));
    }
    long before = currentSnapshot();
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertFlightInvalid(
          () ->
              rawPut(
                  flight,
                  allocator,
                  command(PutCommand.newBuilder().setMode(PutMode.PUT_MODE_UPSERT)),
                  row(1, "eu", 11)),
          "Cannot upsert into table ns.t without key columns");
      assertFlightInvalid(
          () ->
              rawPut(
                  flight,
                  allocator,
                  command(
                      PutCommand.newBuilder()
                          .setMode(PutMode.PUT_MODE_UPSERT)
                          .addKeyColumns("id")
                          .setFilter(Filters.predicate(Filters.eq("id", 1L)))),
                  row(1, "eu", 11)),
          "a filter applies to PUT_MODE_OVERWRITE only, not PUT_MODE_UPSERT");
      assertFlightInvalid(
          () ->
              rawPut(
                  flight,
                  allocator,
                  command(PutCommand.newBuilder().setModeValue(7)),
                  row(1, "eu", 11)),
          "unknown put mode 7");
      assertFlightInvalid(
          () ->
              rawPut(
                  flight,
                  allocator,
                  FlightDescriptor.command("SELECT 1".getBytes(StandardCharsets.UTF_8)),
                  row(1, "eu", 11)),
          "DoPut takes a path descriptor [namespace, table] or a quiver.v1.PutCommand");
    }
    assertThat(currentSnapshot()).isEqualTo(before);
  }

  @Test
  void overwriteAndUpsertNeedAnExistingTable(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      for (PutOptions options : List.of(PutOptions.overwrite(), PutOptions.upsert("id"))) {
        assertThatThrownBy(() -> put(client, allocator, options, row(1, "eu", 10)))
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
            .hasMessageContaining("ns.t");
      }
      assertThat(server.store().find(ID)).isEmpty();
    }
  }

  @Test
  void theJsonCommandPyarrowCanSendUpserts(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10));
    }
    String json =
        "{\"@type\": \"type.googleapis.com/quiver.v1.PutCommand\", \"table\": {\"namespace\":"
            + " \"ns\", \"name\": \"t\"}, \"mode\": \"PUT_MODE_UPSERT\", \"key_columns\":"
            + " [\"id\"]}";
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      PutReceipt receipt =
          rawPut(
              flight,
              allocator,
              FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8)),
              row(1, "eu", 11));
      assertThat(receipt.rowsReplaced()).isEqualTo(1);
    }
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      assertThat(rows(client)).containsExactly("1:eu:11");
    }
  }

  @Test
  void anOverwriteKeepsAConcurrentAppendOfOtherRows() throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        BufferAllocator allocator = serverAllocator()) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));

      racing(allocator, PutMode.PUT_MODE_OVERWRITE, row(3, "us", 30), row(5, "eu", 50));

      assertThat(rows(client)).containsExactly("2:us:20", "3:us:30", "5:eu:50");
    }
  }

  @Test
  void anOverwriteRacingAnAppendOfMatchingRowsFailsAndCommitsNothing() throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        BufferAllocator allocator = serverAllocator()) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));

      assertThatThrownBy(
              () ->
                  racing(allocator, PutMode.PUT_MODE_OVERWRITE, row(3, "eu", 30), row(5, "eu", 50)))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
          .hasMessageContaining("Cannot change table ns.t: a concurrent commit changed rows");

      assertThat(rows(client)).containsExactly("1:eu:10", "2:us:20", "3:eu:30");
      assertThat(dataFiles()).as("only the table's files: the put's were deleted").hasSize(2);
    }
  }

  @Test
  void anOverwriteOfEveryRowRacingAnyAppendFails() throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        BufferAllocator allocator = serverAllocator()) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10));
      PutChanges changes = new PutChanges(server.sql(), server.store());

      try (VectorSchemaRoot batch = root(allocator, row(5, "eu", 50));
          ArrowReader put = TestReaders.repeating(allocator, batch, 1)) {
        assertThatThrownBy(
                () ->
                    changes.overwrite(
                        ID,
                        Optional.empty(),
                        put,
                        allocator,
                        () -> {},
                        () -> append(allocator, row(3, "us", 30))))
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
            .hasMessageContaining("Cannot change table ns.t: a concurrent commit changed rows");
      }

      assertThat(rows(client)).containsExactly("1:eu:10", "3:us:30");
    }
  }

  @Test
  void anUpsertKeepsAConcurrentAppendOutsideItsKeyRange() throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        BufferAllocator allocator = serverAllocator()) {
      put(client, allocator, PutOptions.append(), row(1, "eu", 10), row(2, "us", 20));

      racing(
          allocator, PutMode.PUT_MODE_UPSERT, row(50, "ap", 1), row(2, "us", 21), row(3, "us", 30));

      assertThat(rows(client)).containsExactly("1:eu:10", "2:us:21", "3:us:30", "50:ap:1");
      // An append inside the key range could duplicate a key: it fails the upsert.
      assertThatThrownBy(
              () ->
                  racing(
                      allocator,
                      PutMode.PUT_MODE_UPSERT,
                      row(2, "x", 0),
                      row(1, "eu", 11),
                      row(3, "us", 31)))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
          .hasMessageContaining("ns.t");
    }
  }

  /**
   * Runs an overwrite of region eu (or an upsert on id) of {@code rows} through the server's
   * PutChanges, with {@code appended} committed by another writer between the put's read of the
   * table and its commit.
   */
  private PutReceipt racing(BufferAllocator allocator, PutMode mode, Row appended, Row... rows)
      throws Exception {
    PutChanges changes = new PutChanges(server.sql(), server.store());
    try (VectorSchemaRoot batch = root(allocator, rows);
        ArrowReader put = TestReaders.repeating(allocator, batch, 1)) {
      Runnable race = () -> append(allocator, appended);
      return mode == PutMode.PUT_MODE_UPSERT
          ? changes.upsert(ID, List.of("id"), put, allocator, () -> {}, race)
          : changes.overwrite(
              ID,
              Optional.of(Filters.predicate(Filters.eq("region", "eu"))),
              put,
              allocator,
              () -> {},
              race);
    }
  }

  // ---- helpers ----

  /**
   * A child of the server's root, for calling the server's parts directly: DuckDB's C Data import
   * moves buffers only between allocators of one root. QuiverServers checks it returns to zero.
   */
  private BufferAllocator serverAllocator() {
    return server.memory().root().newChildAllocator("test", 0, Long.MAX_VALUE);
  }

  private PutReceipt put(
      QuiverClient client, BufferAllocator allocator, PutOptions options, Row... rows) {
    try (VectorSchemaRoot root = root(allocator, rows)) {
      return client.put(ID, root, options);
    }
  }

  private void append(BufferAllocator allocator, Row... rows) {
    try (VectorSchemaRoot batch = root(allocator, rows);
        ArrowReader reader = TestReaders.repeating(allocator, batch, 1)) {
      server.store().append(ID, reader, allocator);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static PutReceipt rawPut(
      FlightClient flight, BufferAllocator allocator, FlightDescriptor descriptor, Row... rows)
      throws Exception {
    try (VectorSchemaRoot root = root(allocator, rows);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = flight.startPut(descriptor, root, listener);
      stream.putNext();
      stream.completed();
      stream.getResult();
      try (var result = listener.read()) {
        byte[] json = new byte[(int) result.getApplicationMetadata().readableBytes()];
        result.getApplicationMetadata().getBytes(0, json);
        return PutReceipt.fromJson(json);
      }
    }
  }

  private static FlightDescriptor command(PutCommand.Builder command) {
    command.setTable(TableRef.newBuilder().setNamespace("ns").setName("t"));
    return FlightDescriptor.command(Any.pack(command.build()).toByteArray());
  }

  private static VectorSchemaRoot root(BufferAllocator allocator, Row... rows) {
    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
    BigIntVector ids = (BigIntVector) root.getVector("id");
    VarCharVector regions = (VarCharVector) root.getVector("region");
    BigIntVector amounts = (BigIntVector) root.getVector("amount");
    root.allocateNew();
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].id() == null) {
        ids.setNull(i);
      } else {
        ids.setSafe(i, rows[i].id());
      }
      regions.setSafe(i, new Text(rows[i].region()));
      amounts.setSafe(i, rows[i].amount());
    }
    root.setRowCount(rows.length);
    return root;
  }

  private static List<String> rows(QuiverClient client) throws Exception {
    List<String> out = new ArrayList<>();
    try (ArrowReader reader = client.scan(ID)) {
      while (reader.loadNextBatch()) {
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        for (int i = 0; i < root.getRowCount(); i++) {
          out.add(
              new Row(
                      (Long) root.getVector("id").getObject(i),
                      String.valueOf(root.getVector("region").getObject(i)),
                      (Long) root.getVector("amount").getObject(i))
                  .toString());
        }
      }
    }
    return out.stream().sorted().toList();
  }

  private List<Snapshot> snapshots() {
    List<Snapshot> all = new ArrayList<>();
    server.store().load(ID).table().snapshots().forEach(all::add);
    return all;
  }

  private long currentSnapshot() {
    return server.store().load(ID).currentSnapshotId().orElseThrow();
  }

  /** Every Parquet file under the table's folder, sorted. */
  private List<Path> dataFiles() throws Exception {
    try (Stream<Path> files = Files.walk(dataDir)) {
      return files.filter(p -> p.toString().endsWith(".parquet")).sorted().toList();
    }
  }

  private static void assertInvalid(ThrowingCallable put, String message) {
    assertThatThrownBy(put)
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }

  private static void assertFlightInvalid(ThrowingCallable put, String message) {
    assertThatThrownBy(put)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }
}
