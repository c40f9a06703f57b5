package dev.quiver.client;

import static dev.quiver.client.TestRows.expected;
import static dev.quiver.client.TestRows.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(60)
class QuiverClientTest {
  private static final TableId ORDERS = TableId.of("sales", "orders");

  private FakeQuiverServer server;
  private QuiverClient client;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    server = FakeQuiverServer.start(allocator, 3);
    client = connect(allocator, ClientOptions.builder());
  }

  @AfterEach
  void stop() throws Exception {
    AutoCloseables.close(client, server);
  }

  private QuiverClient connect(BufferAllocator allocator, ClientOptions.Builder options) {
    return QuiverClient.connect(server.location(), options.parentAllocator(allocator).build());
  }

  @Test
  void putThenScanReturnsTheSameRows(BufferAllocator allocator) throws Exception {
    PutReceipt receipt;
    try (ArrowReader batches = TestRows.reader(allocator, 5, 100)) {
      receipt = client.put(ORDERS, batches);
    }

    assertThat(receipt.rows()).isEqualTo(500);
    assertThat(receipt.files()).isEqualTo(1);
    assertThat(receipt.bytes()).isPositive();
    assertThat(client.snapshots(ORDERS))
        .extracting(SnapshotInfo::snapshotId)
        .containsExactly(receipt.snapshotId());
    try (ArrowReader scan = client.scan(ORDERS)) {
      assertThat(scan.getVectorSchemaRoot().getSchema()).isEqualTo(TestRows.SCHEMA);
      assertThat(read(scan)).containsExactlyInAnyOrderElementsOf(expected(0, 500));
      assertThat(scan.bytesRead()).isPositive();
    }
  }

  @Test
  void putOfOneRootAppendsItsRows(BufferAllocator allocator) throws Exception {
    try (VectorSchemaRoot first = TestRows.root(allocator, 0, 10);
        VectorSchemaRoot second = TestRows.root(allocator, 10, 25)) {
      assertThat(client.put(ORDERS, first).rows()).isEqualTo(10);
      assertThat(client.put(ORDERS, second).rows()).isEqualTo(15);
    }

    try (ArrowReader scan = client.scan(ORDERS)) {
      assertThat(read(scan)).containsExactlyInAnyOrderElementsOf(expected(0, 25));
    }
  }

  @Test
  void putStreamsEveryBatchOfALargeReader(BufferAllocator allocator) throws Exception {
    // Large enough that the stream reports not-ready along the way.
    try (ArrowReader batches = TestRows.reader(allocator, 200, 4096)) {
      assertThat(client.put(ORDERS, batches).rows()).isEqualTo(200 * 4096);
    }

    try (ArrowReader scan = client.scan(ORDERS, ScanOptions.builder().parallelism(3).build())) {
      assertThat(read(scan)).hasSize(200 * 4096);
    }
  }

  @Test
  void putFailsWithTimedOutWhenTheServerStopsReading(BufferAllocator allocator) throws Exception {
    TableId stalled = TableId.of("sales", "stalled");
    server.producer().pausePuts();
    try (QuiverClient impatient =
            connect(allocator, ClientOptions.builder().stallTimeout(Duration.ofMillis(200)));
        ArrowReader batches = TestRows.reader(allocator, 1000, 65_536)) {
      assertThatThrownBy(() -> impatient.put(stalled, batches))
          .isInstanceOfSatisfying(
              QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TIMED_OUT))
          .hasMessage("The server accepted no data for table sales.stalled for PT0.2S");
    } finally {
      server.producer().resumePuts();
    }

    TestRows.awaitTrue(
        () -> server.producer().failedPuts() == 1, Duration.ofSeconds(10), "the put to fail");
    assertThat(server.producer().hasTable(stalled)).isFalse();
  }

  @Test
  void putWithAnotherSchemaFailsWithSchemaMismatch(BufferAllocator allocator) throws Exception {
    try (VectorSchemaRoot rows = TestRows.root(allocator, 0, 3);
        VectorSchemaRoot other =
            VectorSchemaRoot.create(FakeQuiverProducer.ENDLESS_SCHEMA, allocator)) {
      client.put(ORDERS, rows);
      other.allocateNew();
      other.setRowCount(0);

      assertThatThrownBy(() -> client.put(ORDERS, other))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.SCHEMA_MISMATCH))
          .hasMessageStartingWith("Cannot append to table sales.orders: the stream's schema");
    }
    assertThat(client.snapshots(ORDERS)).hasSize(1);
  }

  @Test
  void scanOfAMissingTableFailsWithTableNotFound() {
    assertThatThrownBy(() -> client.scan(TableId.of("sales", "missing")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
        .hasMessage("Table sales.missing does not exist");
  }

  @Test
  void errorCodeInTheMetadataWinsOverTheStatus(BufferAllocator allocator) {
    try (VectorSchemaRoot rows = TestRows.root(allocator, 0, 3)) {
      client.put(ORDERS, rows);
    }

    // NOT_FOUND alone would read as TABLE_NOT_FOUND; the metadata says which thing is missing.
    assertThatThrownBy(() -> client.scan(ORDERS, ScanOptions.builder().snapshotId(42).build()))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.SNAPSHOT_NOT_FOUND))
        .hasMessage("Table sales.orders has no snapshot 42");
  }

  @Test
  void errorWithoutMetadataMapsFromTheFlightStatus() {
    Map<CallStatus, QuiverErrorCode> cases =
        Map.of(
            CallStatus.NOT_FOUND, QuiverErrorCode.TABLE_NOT_FOUND,
            CallStatus.RESOURCE_EXHAUSTED, QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
            CallStatus.UNAUTHORIZED, QuiverErrorCode.PERMISSION_DENIED,
            CallStatus.INTERNAL, QuiverErrorCode.INTERNAL);
    cases.forEach(
        (status, code) -> {
          server
              .producer()
              .failNextCall(status.withDescription("Plain " + status.code()).toRuntimeException());
          assertThatThrownBy(() -> client.listTables())
              .isInstanceOfSatisfying(
                  QuiverException.class, e -> assertThat(e.code()).isEqualTo(code))
              .hasMessage("Plain " + status.code());
        });
  }

  @Test
  void callTimeoutBoundsRequestResponseCalls(BufferAllocator allocator) {
    server.producer().pauseActions();
    try (QuiverClient hasty =
        connect(allocator, ClientOptions.builder().callTimeout(Duration.ofMillis(200)))) {
      assertThatThrownBy(hasty::serverInfo)
          .isInstanceOfSatisfying(
              QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TIMED_OUT))
          .hasMessageStartingWith(
              "Action server-info did not finish within the call timeout of PT0.2S: CallOptions"
                  + " deadline exceeded");
    } finally {
      server.producer().resumeActions();
    }
  }

  @Test
  void unreachableServerFailsWithUnavailable(BufferAllocator allocator) throws Exception {
    Location gone;
    try (FakeQuiverServer closed = FakeQuiverServer.start(allocator, 1)) {
      gone = closed.location();
    }
    try (QuiverClient lost =
        QuiverClient.connect(gone, ClientOptions.builder().parentAllocator(allocator).build())) {
      assertThatThrownBy(lost::serverInfo)
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> {
                assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAVAILABLE);
                assertThat(e.getCause())
                    .isInstanceOfSatisfying(
                        org.apache.arrow.flight.FlightRuntimeException.class,
                        f -> assertThat(f.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE));
              })
          .hasMessageContaining("io exception");
    }
  }

  @Test
  void schemaReturnsTheTablesSchema(BufferAllocator allocator) {
    try (VectorSchemaRoot rows = TestRows.root(allocator, 0, 1)) {
      client.put(ORDERS, rows);
    }

    assertThat(client.schema(ORDERS)).isEqualTo(TestRows.SCHEMA);
  }

  @Test
  void listTablesListsEveryTableOrOneNamespace(BufferAllocator allocator) {
    TableId customers = TableId.of("sales", "customers");
    TableId events = TableId.of("web", "events");
    try (VectorSchemaRoot rows = TestRows.root(allocator, 0, 1)) {
      for (TableId table : List.of(ORDERS, customers, events)) {
        client.put(table, rows);
      }
    }

    assertThat(client.listTables()).containsExactlyInAnyOrder(ORDERS, customers, events);
    assertThat(client.listTables("sales")).containsExactlyInAnyOrder(ORDERS, customers);
    assertThat(client.listTables("nothing_here")).isEmpty();
  }

  @Test
  void listTablesRejectsAnInvalidNamespace() {
    assertThatThrownBy(() -> client.listTables("no-dashes"))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_NAME))
        .hasMessage("Invalid namespace 'no-dashes': names match [A-Za-z_][A-Za-z0-9_]{0,127}");
  }

  @Test
  void snapshotsListEveryCommitOldestFirstAndCanBeScanned(BufferAllocator allocator)
      throws Exception {
    PutReceipt first;
    PutReceipt second;
    try (VectorSchemaRoot a = TestRows.root(allocator, 0, 10);
        VectorSchemaRoot b = TestRows.root(allocator, 10, 30)) {
      first = client.put(ORDERS, a);
      second = client.put(ORDERS, b);
    }

    List<SnapshotInfo> snapshots = client.snapshots(ORDERS);

    assertThat(snapshots).hasSize(2);
    SnapshotInfo older = snapshots.get(0);
    SnapshotInfo newer = snapshots.get(1);
    assertThat(older.snapshotId()).isEqualTo(first.snapshotId());
    assertThat(older.parentId()).isEmpty();
    assertThat(older.addedRecords()).isEqualTo(10);
    assertThat(older.current()).isFalse();
    assertThat(newer.snapshotId()).isEqualTo(second.snapshotId());
    assertThat(newer.parentId()).hasValue(first.snapshotId());
    assertThat(newer.totalRecords()).isEqualTo(30);
    assertThat(newer.operation()).isEqualTo("append");
    assertThat(newer.current()).isTrue();
    assertThat(newer.timestamp()).isAfterOrEqualTo(older.timestamp());
    try (ArrowReader past =
        client.scan(ORDERS, ScanOptions.builder().snapshotId(first.snapshotId()).build())) {
      assertThat(read(past)).containsExactlyInAnyOrderElementsOf(expected(0, 10));
    }
  }

  @Test
  void dropTableRemovesItAndFailsTheSecondTime(BufferAllocator allocator) {
    try (VectorSchemaRoot rows = TestRows.root(allocator, 0, 1)) {
      client.put(ORDERS, rows);
    }

    client.dropTable(ORDERS);

    assertThat(client.listTables()).isEmpty();
    assertThatThrownBy(() -> client.dropTable(ORDERS))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
        .hasMessage("Table sales.orders does not exist");
  }

  @Test
  void serverInfoReadsTheServersJson() {
    ServerInfo info = client.serverInfo();

    assertThat(info.name()).isEqualTo("fake-quiver");
    assertThat(info.version()).isEqualTo("0.0-test");
    assertThat(info.arrowVersion()).isEqualTo("18.3.0");
    assertThat(info.icebergVersion()).isEmpty();
    assertThat(info.location()).isEqualTo("grpc://127.0.0.1");
  }

  @Test
  void clientWithoutAParentAllocatorOwnsItsRoot(BufferAllocator allocator) throws Exception {
    // Its own RootAllocator fails the close below if any scan buffer was left behind.
    try (QuiverClient standalone = QuiverClient.connect(server.location());
        VectorSchemaRoot rows = TestRows.root(allocator, 0, 20)) {
      standalone.put(ORDERS, rows);
      try (ArrowReader scan =
          standalone.scan(ORDERS, ScanOptions.builder().parallelism(2).build())) {
        assertThat(read(scan)).containsExactlyInAnyOrderElementsOf(expected(0, 20));
      }
    }
  }

  @Test
  void closingTwiceIsHarmless(BufferAllocator allocator) {
    int before = allocator.getChildAllocators().size();
    QuiverClient extra = connect(allocator, ClientOptions.builder());
    assertThat(allocator.getChildAllocators()).hasSize(before + 1);

    extra.close();
    extra.close();

    assertThat(allocator.getChildAllocators()).hasSize(before);
  }
}
