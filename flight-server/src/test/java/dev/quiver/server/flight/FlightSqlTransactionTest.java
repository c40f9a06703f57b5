package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.FlightSqlClient.Transaction;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlInfo;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedTransaction;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.DenseUnionVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Flight SQL BeginTransaction / EndTransaction against a real in-process server. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class FlightSqlTransactionTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private FlightClient flight;
  private FlightSqlClient sql;
  private QuiverClient quiver;

  /** Starts a server with {@code settings} and a table ns.t of ids 0..29 in three files. */
  private void start(BufferAllocator allocator, String... settings) throws Exception {
    String[] all =
        Stream.concat(
                Stream.of("memory.total", "512MB", "sql.threads", "2"), Arrays.stream(settings))
            .toArray(String[]::new);
    QuiverServer server = servers.start(dataDir, all);
    flight = FlightClient.builder(allocator, server.location()).build();
    sql = new FlightSqlClient(flight);
    quiver = QuiverClient.connect(server.location());
    sql.executeUpdate("CREATE TABLE ns.t (id BIGINT, label VARCHAR)");
    for (int file = 0; file < 3; file++) {
      sql.executeUpdate(
          "INSERT INTO ns.t SELECT range, 'row ' || range FROM range("
              + file * 10
              + ", "
              + (file + 1) * 10
              + ")");
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (sql != null) {
      sql.close();
      quiver.close();
    }
  }

  @Test
  void severalStatementsCommitAsOneSnapshot(BufferAllocator allocator) throws Exception {
    start(allocator);
    List<SnapshotInfo> before = snapshots();
    Transaction txn = sql.beginTransaction();

    assertThat(sql.executeUpdate("INSERT INTO ns.t VALUES (100, 'new'), (101, 'new')", txn))
        .isEqualTo(2);
    assertThat(sql.executeUpdate("DELETE FROM ns.t WHERE id < 5 OR id = 100", txn)).isEqualTo(6);
    assertThat(sql.executeUpdate("UPDATE ns.t SET label = 'changed' WHERE id >= 25", txn))
        .isEqualTo(6);
    // Nothing is visible before the commit.
    assertThat(snapshots()).isEqualTo(before);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);

    sql.commit(txn);

    List<SnapshotInfo> after = snapshots();
    assertThat(after).hasSize(before.size() + 1);
    SnapshotInfo commit = after.get(after.size() - 1);
    assertThat(commit.operation()).isEqualTo("overwrite");
    assertThat(commit.totalRecords()).isEqualTo(26);
    assertThat(ids("SELECT id FROM ns.t ORDER BY id"))
        .isEqualTo(Stream.concat(range(5, 30).stream(), Stream.of(101L)).toList());
    assertThat(ids("SELECT id FROM ns.t WHERE label = 'changed' ORDER BY id"))
        .isEqualTo(Stream.concat(range(25, 30).stream(), Stream.of(101L)).toList());
    // The transaction is over: its id is gone.
    assertFails(
        () -> sql.commit(txn),
        FlightStatusCode.NOT_FOUND,
        "Transaction " + id(txn) + " is not open");
  }

  @Test
  void insertsOnlyCommitAsOneAppendAndPreparedAndIngestJoinIn(BufferAllocator allocator)
      throws Exception {
    start(allocator);
    List<SnapshotInfo> before = snapshots();
    Transaction txn = sql.beginTransaction();

    sql.executeUpdate("INSERT INTO ns.t VALUES (200, 'a')", txn);
    try (FlightSqlClient.PreparedStatement insert =
        sql.prepare("INSERT INTO ns.t VALUES (?, ?)", txn)) {
      Schema parameters = insert.getParameterSchema();
      try (VectorSchemaRoot root = VectorSchemaRoot.create(parameters, allocator)) {
        root.allocateNew();
        ((org.apache.arrow.vector.BigIntVector) root.getVector(0)).setSafe(0, 201);
        ((org.apache.arrow.vector.VarCharVector) root.getVector(1))
            .setSafe(0, "b".getBytes(StandardCharsets.UTF_8));
        root.setRowCount(1);
        insert.setParameters(root);
        assertThat(insert.executeUpdate()).isEqualTo(1);
      }
    }
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("label", ArrowType.Utf8.INSTANCE)));
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      root.allocateNew();
      ((org.apache.arrow.vector.BigIntVector) root.getVector(0)).setSafe(0, 202);
      ((org.apache.arrow.vector.VarCharVector) root.getVector(1))
          .setSafe(0, "c".getBytes(StandardCharsets.UTF_8));
      root.setRowCount(1);
      assertThat(
              sql.executeIngest(
                  root,
                  new FlightSqlClient.ExecuteIngestOptions(
                      "t",
                      org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest
                          .TableDefinitionOptions.newBuilder()
                          .setIfExists(
                              org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest
                                  .TableDefinitionOptions.TableExistsOption
                                  .TABLE_EXISTS_OPTION_APPEND)
                          .build(),
                      null,
                      "ns",
                      java.util.Map.of()),
                  txn))
          .isEqualTo(1);
    }
    assertThat(snapshots()).isEqualTo(before);

    sql.commit(txn);

    List<SnapshotInfo> after = snapshots();
    assertThat(after).hasSize(before.size() + 1);
    assertThat(after.get(after.size() - 1).operation()).isEqualTo("append");
    assertThat(ids("SELECT id FROM ns.t WHERE id >= 200 ORDER BY id"))
        .containsExactly(200L, 201L, 202L);
  }

  @Test
  void rollbackLeavesNoSnapshotAndNoStagedFiles(BufferAllocator allocator) throws Exception {
    start(allocator);
    List<SnapshotInfo> before = snapshots();
    Set<Path> filesBefore = tableFiles();
    Transaction txn = sql.beginTransaction();
    sql.executeUpdate("INSERT INTO ns.t SELECT range, 'x' FROM range(100, 200)", txn);
    sql.executeUpdate("UPDATE ns.t SET label = 'y' WHERE id % 2 = 0", txn);
    assertThat(tableFiles())
        .as("staged files under the table")
        .hasSizeGreaterThan(filesBefore.size());

    sql.rollback(txn);

    assertThat(snapshots()).isEqualTo(before);
    assertThat(tableFiles()).isEqualTo(filesBefore);
    assertThat(ids("SELECT count(*) FROM ns.t WHERE label LIKE 'row%'")).containsExactly(30L);
    assertFails(
        () -> sql.executeUpdate("INSERT INTO ns.t VALUES (1, 'z')", txn),
        FlightStatusCode.NOT_FOUND,
        "Transaction " + id(txn) + " is not open");
  }

  @Test
  void orphanRemovalLeavesAnOpenTransactionsStagedFiles(BufferAllocator allocator)
      throws Exception {
    start(allocator);
    Transaction txn = sql.beginTransaction();
    sql.executeUpdate("INSERT INTO ns.t VALUES (600, 'staged')", txn);
    sql.executeUpdate("DELETE FROM ns.t WHERE id = 0", txn);
    Set<Path> staged = tableFiles();

    java.util.Iterator<org.apache.arrow.flight.Result> results =
        flight.doAction(
            new org.apache.arrow.flight.Action(
                dev.quiver.client.QuiverActions.REMOVE_ORPHAN_FILES,
                "{\"min_age_seconds\": 0}".getBytes(StandardCharsets.UTF_8)));
    results.forEachRemaining(r -> {});

    assertThat(tableFiles()).containsAll(staged);
    sql.commit(txn);
    assertThat(ids("SELECT id FROM ns.t WHERE id IN (0, 600)")).containsExactly(600L);
  }

  @Test
  void aConcurrentConflictingChangeFailsTheCommitAndAnAppendOfOtherRowsIsKept(
      BufferAllocator allocator) throws Exception {
    start(allocator);
    Set<Path> filesBefore = tableFiles();
    Transaction conflicting = sql.beginTransaction();
    sql.executeUpdate("DELETE FROM ns.t WHERE id < 5", conflicting);
    Set<Path> staged = new java.util.HashSet<>(tableFiles());
    staged.removeAll(filesBefore);
    // Another writer changes a row the transaction deleted, and commits first.
    sql.executeUpdate("UPDATE ns.t SET label = 'theirs' WHERE id = 3");
    List<SnapshotInfo> before = snapshots();
    Set<Path> filesOfOthers = new java.util.HashSet<>(tableFiles());
    filesOfOthers.removeAll(staged);

    assertFails(
        () -> sql.commit(conflicting),
        FlightStatusCode.UNAVAILABLE,
        "Cannot commit transaction " + id(conflicting) + " to table ns.t: a concurrent commit");

    assertThat(snapshots()).isEqualTo(before);
    assertThat(tableFiles()).containsExactlyInAnyOrderElementsOf(filesOfOthers);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);

    Transaction kept = sql.beginTransaction();
    sql.executeUpdate("DELETE FROM ns.t WHERE id < 5", kept);
    // An append of rows the DELETE's condition cannot match: no conflict.
    sql.executeUpdate("INSERT INTO ns.t VALUES (500, 'appended')");
    sql.commit(kept);

    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(26L);
    assertThat(ids("SELECT id FROM ns.t WHERE id = 500")).containsExactly(500L);
  }

  @Test
  void anIdleTransactionExpiresAndItsFilesGo(BufferAllocator allocator) throws Exception {
    start(allocator, "sql.transaction-timeout", "300ms");
    Set<Path> filesBefore = tableFiles();
    Transaction txn = sql.beginTransaction();
    sql.executeUpdate("INSERT INTO ns.t VALUES (300, 'staged')", txn);
    assertThat(tableFiles()).hasSizeGreaterThan(filesBefore.size());

    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (!tableFiles().equals(filesBefore)) {
      assertThat(Instant.now()).as("staged files deleted by expiry").isBefore(deadline);
      LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
    }

    assertFails(
        () -> sql.commit(txn),
        FlightStatusCode.NOT_FOUND,
        "Transaction "
            + id(txn)
            + " is not open: it was never begun by this user, has ended,"
            + " or expired after PT0.3S idle (sql.transaction-timeout)");
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);
  }

  @Test
  void unknownIdsAndTheCapOnOpenTransactionsAreRefused(BufferAllocator allocator) throws Exception {
    start(allocator, "sql.max-transactions-per-user", "2");
    Transaction unknown = new Transaction("no-such-txn".getBytes(StandardCharsets.UTF_8));
    assertFails(
        () -> sql.executeUpdate("INSERT INTO ns.t VALUES (1, 'a')", unknown),
        FlightStatusCode.NOT_FOUND,
        "Transaction no-such-txn is not open");
    assertFails(
        () -> sql.execute("SELECT 1", unknown),
        FlightStatusCode.NOT_FOUND,
        "Transaction no-such-txn is not open");
    assertFails(() -> sql.rollback(unknown), FlightStatusCode.NOT_FOUND, "Transaction no-such-txn");

    Transaction first = sql.beginTransaction();
    Transaction second = sql.beginTransaction();
    assertFails(
        sql::beginTransaction,
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "has 2 transactions open, the most sql.max-transactions-per-user allows");
    sql.rollback(first);
    sql.rollback(sql.beginTransaction());
    sql.commit(second);
  }

  @Test
  void readsOfAChangedTableAndDdlAreRefusedAndTheTransactionStillCommits(BufferAllocator allocator)
      throws Exception {
    start(allocator);
    createOther("(7)");
    Transaction txn = sql.beginTransaction();
    // Before the transaction changes ns.t, reading it is fine.
    assertThat(ids("SELECT count(*) FROM ns.t", txn)).containsExactly(30L);
    sql.executeUpdate("INSERT INTO ns.t VALUES (400, 'mine')", txn);

    assertFails(
        () -> sql.execute("SELECT count(*) FROM ns.t", txn),
        FlightStatusCode.UNIMPLEMENTED,
        "has changed table ns.t, and reading a table's staged changes inside its transaction is"
            + " not supported yet");
    assertFails(
        () -> sql.executeUpdate("DELETE FROM ns.t WHERE id IN (SELECT id FROM ns.t)", txn),
        FlightStatusCode.UNIMPLEMENTED,
        "has changed table ns.t");
    assertFails(
        () -> sql.executeUpdate("CREATE TABLE ns.third (id BIGINT)", txn),
        FlightStatusCode.UNIMPLEMENTED,
        "CREATE TABLE is not supported inside a transaction");
    // Other tables read as committed; the target's own rows are the transaction's.
    assertThat(ids("SELECT id FROM ns.other", txn)).containsExactly(7L);
    assertThat(
            sql.executeUpdate(
                "DELETE FROM ns.t WHERE id IN (SELECT id FROM ns.other) OR id = 400", txn))
        .isEqualTo(2);

    sql.commit(txn);

    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(29L);
    assertThat(ids("SELECT id FROM ns.other")).containsExactly(7L);
  }

  @Test
  void twoTablesCommitTogether(BufferAllocator allocator) throws Exception {
    start(allocator);
    createOther("(7), (8)");
    List<SnapshotInfo> before = snapshots();
    List<SnapshotInfo> otherBefore = otherSnapshots();
    Transaction txn = sql.beginTransaction();
    sql.executeUpdate("INSERT INTO ns.t VALUES (700, 'both')", txn);
    sql.executeUpdate("DELETE FROM ns.other WHERE id = 7", txn);
    sql.executeUpdate("INSERT INTO ns.other VALUES (9)", txn);
    sql.executeUpdate("DELETE FROM ns.t WHERE id < 10", txn);
    assertThat(snapshots()).isEqualTo(before);
    assertThat(otherSnapshots()).isEqualTo(otherBefore);

    sql.commit(txn);

    assertThat(snapshots()).hasSize(before.size() + 1);
    assertThat(otherSnapshots()).hasSize(otherBefore.size() + 1);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(21L);
    assertThat(ids("SELECT id FROM ns.t WHERE id = 700")).containsExactly(700L);
    assertThat(ids("SELECT id FROM ns.other ORDER BY id")).containsExactly(8L, 9L);
    // The tables go on taking ordinary commits after the pointers were swapped outside Iceberg.
    sql.executeUpdate("INSERT INTO ns.other VALUES (10)");
    sql.executeUpdate("DELETE FROM ns.t WHERE id = 700");
    assertThat(ids("SELECT id FROM ns.other ORDER BY id")).containsExactly(8L, 9L, 10L);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(20L);
  }

  @Test
  void aConflictOnOneTableCommitsNoTable(BufferAllocator allocator) throws Exception {
    start(allocator);
    createOther("(7)");
    Transaction txn = sql.beginTransaction();
    sql.executeUpdate("INSERT INTO ns.other VALUES (8)", txn);
    sql.executeUpdate("DELETE FROM ns.t WHERE id < 5", txn);
    sql.executeUpdate("UPDATE ns.t SET label = 'theirs' WHERE id = 3");
    List<SnapshotInfo> before = snapshots();
    List<SnapshotInfo> otherBefore = otherSnapshots();

    assertFails(
        () -> sql.commit(txn),
        FlightStatusCode.UNAVAILABLE,
        "Cannot commit transaction " + id(txn) + " to table ns.t: a concurrent commit");

    assertThat(snapshots()).isEqualTo(before);
    assertThat(otherSnapshots()).isEqualTo(otherBefore);
    assertThat(ids("SELECT id FROM ns.other")).containsExactly(7L);
    assertThat(ids("SELECT count(*) FROM ns.t")).containsExactly(30L);
  }

  @Test
  void sqlInfoSaysTransactionsAreSupported(BufferAllocator allocator) throws Exception {
    start(allocator);
    FlightInfo info =
        sql.getSqlInfo(
            SqlInfo.FLIGHT_SQL_SERVER_TRANSACTION,
            SqlInfo.SQL_TRANSACTIONS_SUPPORTED,
            SqlInfo.FLIGHT_SQL_SERVER_INGEST_TRANSACTIONS_SUPPORTED,
            SqlInfo.FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT);
    List<Object> values = new ArrayList<>();
    try (FlightStream stream = sql.getStream(info.getEndpoints().get(0).getTicket())) {
      while (stream.next()) {
        DenseUnionVector value = (DenseUnionVector) stream.getRoot().getVector("value");
        for (int i = 0; i < stream.getRoot().getRowCount(); i++) {
          values.add(value.getObject(i));
        }
      }
    }
    assertThat(values)
        .containsExactly(
            SqlSupportedTransaction.SQL_SUPPORTED_TRANSACTION_TRANSACTION.getNumber(),
            true,
            true,
            300_000);
  }

  private void assertFails(ThrowingCallable call, FlightStatusCode code, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class, e -> assertThat(e.status().code()).isEqualTo(code))
        .hasMessageContaining(message);
  }

  private static String id(Transaction txn) {
    return new String(txn.getTransactionId(), StandardCharsets.UTF_8);
  }

  /** Every file under the warehouse folder of ns.t (data and metadata). */
  private Set<Path> tableFiles() throws Exception {
    try (Stream<Path> files = Files.walk(dataDir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> p.toString().contains("/ns/t-"))
          .filter(p -> p.toString().endsWith(".parquet") || p.toString().endsWith(".avro"))
          .collect(Collectors.toSet());
    }
  }

  /** Creates table ns.other (id BIGINT) holding {@code values}, as in "(7), (8)". */
  private void createOther(String values) {
    sql.executeUpdate("CREATE TABLE ns.other (id BIGINT)");
    sql.executeUpdate("INSERT INTO ns.other VALUES " + values);
  }

  private List<SnapshotInfo> otherSnapshots() {
    return quiver.snapshots(TableId.of("ns", "other"));
  }

  private List<SnapshotInfo> snapshots() {
    return quiver.snapshots(TableId.of("ns", "t"));
  }

  private List<Long> ids(String query) throws Exception {
    return ids(sql.execute(query));
  }

  private List<Long> ids(String query, Transaction txn) throws Exception {
    return ids(sql.execute(query, txn));
  }

  private List<Long> ids(FlightInfo info) throws Exception {
    List<Long> out = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = flight.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            out.add(((Number) root.getVector(0).getObject(i)).longValue());
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
