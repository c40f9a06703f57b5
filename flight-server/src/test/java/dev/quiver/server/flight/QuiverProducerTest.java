package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.proto.v1.And;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.TimeStampMilliTZVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The producer behind a real in-process server, driven by Arrow's own FlightClient. */
@ExtendWith(ArrowAllocatorExtension.class)
class QuiverProducerTest {
  @RegisterExtension final QuiverServers servers = servers();

  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable("name", ArrowType.Utf8.INSTANCE)));

  @TempDir Path dataDir;
  private QuiverServer server;

  /** What decodes DoGets (scan.engine): {@link ArrowDatasetScanTest} runs these tests on both. */
  /** The servers' extension: every server's memory must come back to zero after each test. */
  QuiverServers servers() {
    return new QuiverServers();
  }

  String scanEngine() {
    return "duckdb";
  }

  @BeforeEach
  void start() throws Exception {
    server =
        servers.start(
            dataDir,
            "memory.total",
            "512MB",
            "storage.target-file-size",
            "1MB",
            "flight.endpoint-target-size",
            "1",
            "scan.engine",
            scanEngine());
  }

  @Test
  void putThenGetReturnsTheRowsInOrder(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      PutReceipt receipt = put(client, allocator, "sales", "orders", 0, 5000, 3);
      assertThat(receipt.rows()).isEqualTo(15000);
      assertThat(receipt.files()).isGreaterThanOrEqualTo(1);
      assertThat(receipt.bytes()).isPositive();
      assertThat(receipt.snapshotId()).isNotZero();

      FlightInfo info = client.getInfo(FlightDescriptor.path("sales", "orders"));
      assertThat(info.getRecords()).isEqualTo(15000);
      assertThat(info.getSchemaOptional()).contains(SCHEMA);
      assertThat(readIds(client, info)).isEqualTo(range(0, 15000));
    }
  }

  @Test
  void threeAppendsMakeThreeSnapshotsAndTimeTravelReadsEach(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<Long> snapshots = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        snapshots.add(put(client, allocator, "ns", "t", i * 10, 10, 1).snapshotId());
      }
      for (int i = 0; i < 3; i++) {
        ScanCommand scan =
            ScanCommand.newBuilder()
                .setTable(TableRef.newBuilder().setNamespace("ns").setName("t"))
                .setSnapshotId(snapshots.get(i))
                .build();
        FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));
        assertThat(readIds(client, info)).isEqualTo(range(0, (i + 1) * 10));
      }
      String json = action(client, "list-snapshots", "{\"namespace\":\"ns\",\"table\":\"t\"}");
      for (long id : snapshots) {
        assertThat(json).contains("\"snapshot_id\":" + id);
      }
    }
  }

  @Test
  void projectionAndLimitApply(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, "ns", "p", 0, 100, 2);
      ScanCommand scan =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ns").setName("p"))
              .addColumns("id")
              .setLimit(150)
              .build();
      FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));
      assertThat(info.getEndpoints()).hasSize(1);
      assertThat(info.getSchemaOptional().orElseThrow().getFields())
          .extracting(Field::getName)
          .containsExactly("id");
      assertThat(readIds(client, info)).isEqualTo(range(0, 150));
    }
  }

  @Test
  void filtersArePushedDownOnStoredTypes(BufferAllocator allocator) throws Exception {
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("ts", new ArrowType.Timestamp(TimeUnit.MILLISECOND, "UTC"))));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      root.allocateNew();
      BigIntVector ids = (BigIntVector) root.getVector("id");
      TimeStampMilliTZVector ts = (TimeStampMilliTZVector) root.getVector("ts");
      for (int i = 0; i < 1000; i++) {
        ids.setSafe(i, i);
        ts.setSafe(i, 1_700_000_000_000L + i * 1000L);
      }
      root.setRowCount(1000);
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream =
          client.startPut(FlightDescriptor.path("ns", "f"), root, listener);
      stream.putNext();
      stream.completed();
      stream.getResult();
      listener.close();

      // ts >= 1_700_000_990_000 ms keeps ids 990..999 (the file stores microseconds).
      Predicate predicate =
          Predicate.newBuilder()
              .setAnd(
                  And.newBuilder()
                      .addTerms(comparison("ts", Comparison.Op.GE, 1_700_000_990_000L))
                      .addTerms(comparison("id", Comparison.Op.NE, 995L)))
              .build();
      ScanCommand scan =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ns").setName("f"))
              .setFilter(Filter.newBuilder().setPredicate(predicate))
              .build();
      FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));
      assertThat(readIds(client, info))
          .containsExactly(990L, 991L, 992L, 993L, 994L, 996L, 997L, 998L, 999L);
    }
  }

  private static Predicate comparison(String column, Comparison.Op op, long value) {
    return Predicate.newBuilder()
        .setComparison(
            Comparison.newBuilder()
                .setColumn(column)
                .setOp(op)
                .setValue(Literal.newBuilder().setLongValue(value)))
        .build();
  }

  @Test
  void schemaMismatchIsInvalidArgumentAndCommitsNothing(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, "ns", "m", 0, 10, 1);
      Schema other = new Schema(List.of(Field.nullable("id", ArrowType.Utf8.INSTANCE)));
      try (VectorSchemaRoot root = VectorSchemaRoot.create(other, allocator)) {
        root.allocateNew();
        ((VarCharVector) root.getVector("id")).setSafe(0, new Text("x"));
        root.setRowCount(1);
        SyncPutListener listener = new SyncPutListener();
        FlightClient.ClientStreamListener stream =
            client.startPut(FlightDescriptor.path("ns", "m"), root, listener);
        stream.putNext();
        stream.completed();
        assertThatThrownBy(stream::getResult)
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> {
                  assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT);
                  assertThat(QuiverException.fromFlight(e).code())
                      .isEqualTo(QuiverErrorCode.SCHEMA_MISMATCH);
                })
            .hasMessageContaining("ns.m")
            .hasMessageContaining("id");
        listener.close();
      }
      assertThat(client.getInfo(FlightDescriptor.path("ns", "m")).getRecords()).isEqualTo(10);
    }
  }

  @Test
  void aScanCommandSentAsJsonReadsLikeThePackedOne(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, "ns", "j", 0, 100, 2);
      String json =
          "{\"@type\": \"type.googleapis.com/quiver.v1.ScanCommand\","
              + " \"table\": {\"namespace\": \"ns\", \"name\": \"j\"},"
              + " \"columns\": [\"id\"],"
              + " \"filter\": {\"predicate\": {\"comparison\":"
              + " {\"column\": \"id\", \"op\": \"GE\", \"value\": {\"longValue\": \"190\"}}}},"
              + " \"limit\": \"5\"}";
      FlightInfo info =
          client.getInfo(FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8)));
      assertThat(info.getSchemaOptional().orElseThrow().getFields())
          .extracting(Field::getName)
          .containsExactly("id");
      assertThat(readIds(client, info)).isEqualTo(range(190, 195));
    }
  }

  @Test
  void commandsThatAreNeitherSqlNorAnAnyAreRefusedNamingWhatWasExpected(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      ScanCommand raw =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ns").setName("p"))
              .build();
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.command(raw.toByteArray())))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("is neither SQL text nor a google.protobuf.Any")
          .hasMessageContaining("type.googleapis.com/quiver.v1.ScanCommand");
      byte[] badJson =
          "{\"@type\": \"type.googleapis.com/quiver.v1.Nope\"}".getBytes(StandardCharsets.UTF_8);
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.command(badJson)))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("The JSON command is not a quiver.v1.ScanCommand");
    }
  }

  @Test
  void unknownTablesBadNamesAndGarbageTicketsGetClearStatuses(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.path("ns", "missing")))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table ns.missing does not exist");
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.path("ns", "../etc")))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("Invalid table name '../etc'");
      assertThatThrownBy(
              () -> {
                try (FlightStream stream =
                    client.getStream(new Ticket("garbage".getBytes(StandardCharsets.UTF_8)))) {
                  stream.next();
                }
              })
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("ticket");
      // The server keeps serving.
      put(client, allocator, "ns", "after", 0, 3, 1);
      assertThat(client.getInfo(FlightDescriptor.path("ns", "after")).getRecords()).isEqualTo(3);
    }
  }

  @Test
  void listFlightsByNamespaceAndDropTable(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, "a", "one", 0, 1, 1);
      put(client, allocator, "a", "two", 0, 2, 1);
      put(client, allocator, "b", "three", 0, 3, 1);
      assertThat(paths(client, Criteria.ALL)).containsExactly("a.one", "a.two", "b.three");
      assertThat(paths(client, new Criteria("a".getBytes(StandardCharsets.UTF_8))))
          .containsExactly("a.one", "a.two");
      action(client, "drop-table", "{\"namespace\":\"a\",\"table\":\"one\"}");
      assertThat(paths(client, Criteria.ALL)).containsExactly("a.two", "b.three");
      assertThatThrownBy(
              () -> action(client, "drop-table", "{\"namespace\":\"a\",\"table\":\"one\"}"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table a.one does not exist");
      try (Stream<Path> files = Files.walk(dataDir.resolve("warehouse").resolve("a"))) {
        assertThat(files.map(Path::toString)).noneMatch(p -> p.contains("one-"));
      }
    }
  }

  private static List<String> paths(FlightClient client, Criteria criteria) {
    List<String> paths = new ArrayList<>();
    for (FlightInfo info : client.listFlights(criteria)) {
      paths.add(String.join(".", info.getDescriptor().getPath()));
    }
    return paths;
  }

  private static String action(FlightClient client, String type, String body) {
    StringBuilder out = new StringBuilder();
    var results = client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    while (results.hasNext()) {
      Result result = results.next();
      out.append(new String(result.getBody(), StandardCharsets.UTF_8));
    }
    return out.toString();
  }

  static PutReceipt put(
      FlightClient client,
      BufferAllocator allocator,
      String namespace,
      String table,
      long firstId,
      int rowsPerBatch,
      int batches) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream =
          client.startPut(FlightDescriptor.path(namespace, table), root, listener);
      long id = firstId;
      for (int b = 0; b < batches; b++) {
        root.allocateNew();
        BigIntVector ids = (BigIntVector) root.getVector("id");
        VarCharVector names = (VarCharVector) root.getVector("name");
        for (int i = 0; i < rowsPerBatch; i++, id++) {
          ids.setSafe(i, id);
          names.setSafe(i, new Text("name-" + id));
        }
        root.setRowCount(rowsPerBatch);
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      try (PutResult result = listener.read()) {
        byte[] json = new byte[(int) result.getApplicationMetadata().readableBytes()];
        result.getApplicationMetadata().getBytes(0, json);
        return PutReceipt.fromJson(json);
      } finally {
        listener.close();
      }
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new AssertionError(e);
    }
  }

  static List<Long> readIds(FlightClient client, FlightInfo info) throws Exception {
    List<Long> ids = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          BigIntVector vector = (BigIntVector) stream.getRoot().getVector("id");
          for (int i = 0; i < stream.getRoot().getRowCount(); i++) {
            ids.add(vector.get(i));
          }
        }
      }
    }
    return ids;
  }

  private static List<Long> range(long from, long to) {
    List<Long> ids = new ArrayList<>();
    for (long i = from; i < to; i++) {
      ids.add(i);
    }
    return ids;
  }
}
