package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import dev.quiver.client.Filters;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.table.ScanFile;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.transforms.Transforms;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The set-partitioning action, puts routed to partitions, pruning and per-partition endpoints. */
@ExtendWith(ArrowAllocatorExtension.class)
class PartitioningTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TableId ID = TableId.of("ns", "events");
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "events");
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable("ts", new ArrowType.Timestamp(TimeUnit.MICROSECOND, null)),
              Field.nullable("region", ArrowType.Utf8.INSTANCE)));
  private static final LocalDateTime START = LocalDateTime.of(2026, 1, 1, 0, 0);

  @TempDir Path dataDir;
  // Checks every call closed and the memory back to zero after each test, then closes the server.
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
  }

  /** One row: an id, a timestamp and a region. */
  record Row(long id, long micros, String region) {}

  @Test
  void putsAfterSetPartitioningLandInPartitionFoldersWithIcebergsValues(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<Row> before = rows(0, 30, 3, 2);
      put(client, allocator, before);

      JsonNode result = setPartitioning(client, "\"day(ts)\", \"bucket(16, id)\"");
      assertThat(result.get("table").asText()).isEqualTo("ns.events");
      assertThat(result.get("partitioning").toString())
          .isEqualTo("[\"day(ts)\",\"bucket[16](id)\"]");
      Table table = server.store().load(ID).table();
      assertThat(table.spec().fields()).hasSize(2);
      assertThat(table.specs()).hasSize(2);

      List<Row> after = rows(100, 40, 4, 2);
      put(client, allocator, after);

      table = server.store().load(ID).table();
      List<DataFile> files =
          server
              .store()
              .load(ID)
              .files(table.currentSnapshot().snapshotId(), Expressions.alwaysTrue())
              .stream()
              .map(ScanFile::data)
              .toList();
      var day = Transforms.day().bind(Types.TimestampType.withoutZone());
      var bucket = Transforms.bucket(16).bind(Types.LongType.get());
      Set<String> expected = new HashSet<>();
      for (Row r : after) {
        expected.add(day.apply(r.micros()) + "/" + bucket.apply(r.id()));
      }
      Set<String> got = new HashSet<>();
      int oldFiles = 0;
      for (DataFile f : files) {
        if (f.specId() == 0) {
          oldFiles++;
          assertThat(f.location()).doesNotContain("ts_day=");
          continue;
        }
        assertThat(f.specId()).isEqualTo(table.spec().specId());
        Object d = f.partition().get(0, Object.class);
        Object b = f.partition().get(1, Object.class);
        got.add(d + "/" + b);
        String dayText = LocalDate.ofEpochDay((Integer) d).toString();
        assertThat(f.location()).contains("/ts_day=" + dayText + "/id_bucket_16=" + b + "/");
      }
      assertThat(oldFiles).as("the put before keeps its unpartitioned file").isEqualTo(1);
      assertThat(got).isEqualTo(expected);
      // A few values against Iceberg's transforms, which Trino's and Spark's bucket hashes equal.
      assertThat(bucket.apply(34L)).isEqualTo(3); // Iceberg spec: bucket(34L) hash 2017239379
      assertThat(got).hasSizeGreaterThan(4);

      List<Row> all = new ArrayList<>(before);
      all.addAll(after);
      assertThat(readAll(client, TABLE)).containsExactlyInAnyOrderElementsOf(all);
    }
  }

  @Test
  void aDayFilterPlansOnlyThatDaysFilesAndEndpointsSplitByPartition(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      setPartitioningAfterCreate(client, allocator, "\"day(ts)\"");
      List<Row> rows = rows(0, 500, 10, 4);
      put(client, allocator, rows);

      assertThat(plannedFiles(null)).as("one file per day").hasSize(10);
      long dayStart = micros(START.plusDays(3));
      long dayEnd = micros(START.plusDays(4));
      var filter =
          Filters.predicate(Filters.and(Filters.ge("ts", dayStart), Filters.lt("ts", dayEnd)));
      List<DataFile> planned = plannedFiles(filter);
      assertThat(planned).as("the filter prunes every other day").hasSize(1);
      assertThat(planned.get(0).location()).contains("ts_day=2026-01-04");

      ScanCommand scan = command().setFilter(filter).build();
      List<Row> got = readAll(client, FlightDescriptor.command(Any.pack(scan).toByteArray()));
      assertThat(got)
          .containsExactlyInAnyOrderElementsOf(
              rows.stream().filter(r -> r.micros() >= dayStart && r.micros() < dayEnd).toList());

      FlightInfo info = client.getInfo(TABLE);
      assertThat(info.getEndpoints()).as("one endpoint per day").hasSize(10);
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        Set<LocalDate> days = new HashSet<>();
        for (Row r : read(client, endpoint)) {
          days.add(
              LocalDateTime.ofEpochSecond(r.micros() / 1_000_000, 0, ZoneOffset.UTC).toLocalDate());
        }
        assertThat(days).as("an endpoint never mixes partitions").hasSize(1);
      }
    }
  }

  @Test
  void badTermsAreRefusedNamingTheColumnAndNothingIsCommitted(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, rows(0, 10, 1, 1));
      int specId = server.store().load(ID).table().spec().specId();
      assertRefused(
          client,
          "\"day(ts)\", \"day(missing)\"",
          "Cannot partition table ns.events by day(missing): it has no top-level column missing");
      assertRefused(
          client,
          "\"day(region)\"",
          "transform day does not apply to column region of type string");
      assertRefused(client, "\"bucket(0, id)\"", "Partition term 'bucket(0, id)' is not one of");
      assertRefused(client, "\"frobnicate(id)\"", "Partition term 'frobnicate(id)' is not one of");
      assertRefused(client, "\"truncate(id)\"", "Partition term 'truncate(id)' is not one of");
      assertThatThrownBy(
              () ->
                  action(
                      client,
                      QuiverActions.SET_PARTITIONING,
                      "{\"namespace\": \"ns\", \"table\": \"events\", \"partitioning\": \"day(ts)\"}"))
          .isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> assertThat(code(e)).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("needs \"partitioning\": a list of terms");
      assertThatThrownBy(
              () ->
                  action(
                      client,
                      QuiverActions.SET_PARTITIONING,
                      "{\"namespace\": \"ns\", \"table\": \"nope\", \"partitioning\": []}"))
          .isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> assertThat(code(e)).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table ns.nope does not exist");
      Table table = server.store().load(ID).table();
      assertThat(table.spec().specId()).isEqualTo(specId);
      assertThat(table.spec().isUnpartitioned()).isTrue();
      assertThat(table.specs()).as("no spec was added").hasSize(1);
      List<String> actions = new ArrayList<>();
      client.listActions().forEach(a -> actions.add(a.getType()));
      assertThat(actions).contains(QuiverActions.SET_PARTITIONING);
    }
  }

  @Test
  void anEmptyListMakesTheTableUnpartitionedAgainAndMixedReadsAreWhole(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<Row> all = new ArrayList<>(rows(0, 20, 2, 2));
      put(client, allocator, all);
      setPartitioning(client, "\"region\"");
      List<Row> partitioned = rows(100, 20, 2, 2);
      put(client, allocator, partitioned);
      all.addAll(partitioned);
      JsonNode result = setPartitioning(client, "");
      assertThat(result.get("partitioning")).isEmpty();
      List<Row> last = rows(200, 20, 2, 2);
      put(client, allocator, last);
      all.addAll(last);
      // Iceberg reuses the unpartitioned spec 0 rather than adding an equal one.
      assertThat(server.store().load(ID).table().spec().specId()).isZero();
      QuiverTableFiles files = files();
      assertThat(files.bySpec().keySet()).containsExactlyInAnyOrder(0, 1);
      assertThat(files.bySpec().get(0)).hasSize(2);
      assertThat(files.bySpec().get(1))
          .hasSize(2)
          .extracting(DataFile::location)
          .allMatch(l -> l.contains("/region=r"));
      assertThat(readAll(client, TABLE)).containsExactlyInAnyOrderElementsOf(all);
    }
  }

  @Test
  void aPutTouchingAThousandPartitionsKeepsAtMostTheCapOpen(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, rows(0, 10, 1, 1));
      setPartitioning(client, "\"truncate(1, id)\"");
      // Ids cycle through 1,000 values in each batch: every batch touches every partition.
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        rows.add(new Row(i % 1000, micros(START), "r"));
      }
      long start = System.nanoTime();
      put(client, allocator, rows);
      System.out.printf(
          "1,000-partition put of 20,000 rows: %d ms, at most %d spill files open%n",
          (System.nanoTime() - start) / 1_000_000, server.store().lastPeakOpenPartitions());
      assertThat(server.store().lastPeakOpenPartitions()).isEqualTo(64);
      assertThat(files().bySpec().get(1)).hasSize(1000);
      try (Stream<Path> walk = Files.walk(dataDir.resolve("warehouse"))) {
        assertThat(walk.filter(p -> p.toString().contains(".spill")).toList())
            .as("spill files are gone")
            .isEmpty();
      }
      long sum = 0;
      for (Row r : readAll(client, TABLE)) {
        sum += r.id();
      }
      assertThat(sum).isEqualTo(20L * IdTable.sum(1000) + IdTable.sum(10));
    }
  }

  @Test
  void compactionRewritesEachPartitionAndSpecApart(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<Row> all = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        List<Row> some = rows(i * 10, 10, 1, 2);
        put(client, allocator, some);
        all.addAll(some);
      }
      setPartitioning(client, "\"region\"");
      for (int i = 0; i < 4; i++) {
        List<Row> some = rows(100 + i * 10, 10, 1, 2);
        put(client, allocator, some);
        all.addAll(some);
      }
      assertThat(files().bySpec().get(0)).hasSize(3);
      assertThat(files().bySpec().get(1)).hasSize(8);

      JsonNode report =
          action(
              client,
              QuiverActions.COMPACT_TABLE,
              "{\"namespace\": \"ns\", \"table\": \"events\"}");
      assertThat(report.get("files_rewritten").asInt()).isEqualTo(11);
      assertThat(report.get("files_added").asInt())
          .as("old spec, region r0, region r1")
          .isEqualTo(3);
      QuiverTableFiles after = files();
      assertThat(after.bySpec().get(0)).hasSize(1);
      assertThat(after.bySpec().get(1))
          .extracting(f -> String.valueOf(f.partition().get(0, Object.class)))
          .containsExactlyInAnyOrder("r0", "r1");
      assertThat(after.bySpec().get(1))
          .allMatch(
              f -> f.location().contains("/region=" + f.partition().get(0, Object.class) + "/"));
      assertThat(readAll(client, TABLE)).containsExactlyInAnyOrderElementsOf(all);
    }
  }

  // ---- helpers

  /** {@code count} rows from id {@code first}, over {@code days} days and {@code regions}. */
  static List<Row> rows(long first, int count, int days, int regions) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long id = first + i;
      LocalDateTime ts = START.plusDays(i % days).plus(i * 7L, ChronoUnit.SECONDS);
      rows.add(new Row(id, micros(ts), "r" + (i % regions)));
    }
    return rows;
  }

  static long micros(LocalDateTime time) {
    return time.toEpochSecond(ZoneOffset.UTC) * 1_000_000;
  }

  static void put(FlightClient client, BufferAllocator allocator, List<Row> rows) throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(TABLE, root, listener);
      for (int done = 0; done < rows.size(); done += 10_000) {
        int n = Math.min(10_000, rows.size() - done);
        root.allocateNew();
        BigIntVector ids = (BigIntVector) root.getVector("id");
        TimeStampMicroVector ts = (TimeStampMicroVector) root.getVector("ts");
        VarCharVector region = (VarCharVector) root.getVector("region");
        for (int i = 0; i < n; i++) {
          Row r = rows.get(done + i);
          ids.setSafe(i, r.id());
          ts.setSafe(i, r.micros());
          region.setSafe(i, r.region().getBytes(StandardCharsets.UTF_8));
        }
        root.setRowCount(n);
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      listener.read().close();
    }
  }

  static List<Row> readAll(FlightClient client, FlightDescriptor descriptor) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (FlightEndpoint endpoint : client.getInfo(descriptor).getEndpoints()) {
      rows.addAll(read(client, endpoint));
    }
    return rows;
  }

  static List<Row> read(FlightClient client, FlightEndpoint endpoint) throws Exception {
    List<Row> rows = new ArrayList<>();
    try (FlightStream stream = client.getStream(endpoint.getTicket())) {
      while (stream.next()) {
        VectorSchemaRoot root = stream.getRoot();
        BigIntVector ids = (BigIntVector) root.getVector("id");
        TimeStampMicroVector ts = (TimeStampMicroVector) root.getVector("ts");
        VarCharVector region = (VarCharVector) root.getVector("region");
        for (int i = 0; i < root.getRowCount(); i++) {
          rows.add(
              new Row(ids.get(i), ts.get(i), new String(region.get(i), StandardCharsets.UTF_8)));
        }
      }
    }
    return rows;
  }

  private void setPartitioningAfterCreate(
      FlightClient client, BufferAllocator allocator, String terms) throws Exception {
    put(client, allocator, List.of());
    setPartitioning(client, terms);
  }

  private List<DataFile> plannedFiles(dev.quiver.proto.v1.Filter filter) {
    ScanCommand.Builder scan = command();
    if (filter != null) {
      scan.setFilter(filter);
    }
    return ScanPlan.plan(server.store(), ScanRequest.of(scan.build())).files().stream()
        .map(ScanFile::data)
        .toList();
  }

  private static ScanCommand.Builder command() {
    return ScanCommand.newBuilder()
        .setTable(TableRef.newBuilder().setNamespace("ns").setName("events"));
  }

  /** The current snapshot's files by spec id. */
  record QuiverTableFiles(Map<Integer, List<DataFile>> bySpec) {}

  private QuiverTableFiles files() {
    var table = server.store().load(ID);
    Map<Integer, List<DataFile>> bySpec = new HashMap<>();
    for (ScanFile scanned :
        table.files(table.currentSnapshotId().orElseThrow(), Expressions.alwaysTrue())) {
      DataFile f = scanned.data();
      bySpec.computeIfAbsent(f.specId(), k -> new ArrayList<>()).add(f);
    }
    return new QuiverTableFiles(bySpec);
  }

  private void assertRefused(FlightClient client, String terms, String message) {
    assertThatThrownBy(() -> setPartitioning(client, terms))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertThat(code(e)).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }

  private static FlightStatusCode code(Throwable e) {
    return ((FlightRuntimeException) e).status().code();
  }

  private static JsonNode setPartitioning(FlightClient client, String terms) throws Exception {
    return action(
        client,
        QuiverActions.SET_PARTITIONING,
        "{\"namespace\": \"ns\", \"table\": \"events\", \"partitioning\": [" + terms + "]}");
  }

  static JsonNode action(FlightClient client, String type, String body) throws Exception {
    Iterator<Result> results =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    JsonNode json = JSON.readTree(results.next().getBody());
    results.forEachRemaining(r -> {});
    return json;
  }
}
