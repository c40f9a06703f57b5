package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.memory.MemoryReport;
import dev.quiver.server.sql.SqlQuery;
import dev.quiver.server.table.filter.FilterTranslator;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory governance end to end: the per-query limit, the stall timeout, cancellation and the memory
 * report, on a real in-process server with small limits, driven by Arrow's FlightClient.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class MemoryGovernanceTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final int TEXT_COLUMNS = 4;
  private static final int ROWS = 40_000;
  private static final String PADDING = "x".repeat(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dataDir;
  private QuiverServer server;

  private void start(Map<String, String> overrides) throws Exception {
    Map<String, String> flags = new HashMap<>();
    flags.put("flight.port", "0");
    flags.put("storage.data-dir", dataDir.toString());
    flags.put("memory.total", "256MB");
    // Roomy for the tests that are not about the limit: a scan's native memory (arrow-dataset
    // decodes and reads ahead) is charged to its call.
    flags.put("memory.query-limit", "64MB");
    flags.put("storage.target-file-size", "64MB");
    // Native scan memory is charged to the call and grows with the row group being decoded:
    // small row groups keep the tests that are not about the limit well inside it.
    flags.put("storage.row-group-rows", "2000");
    flags.putAll(overrides);
    server = QuiverServer.start(ServerConfig.load(Map.of(), Map.of(), flags));
  }

  @Test
  void aCallOverTheQueryLimitFailsAloneAndReleasesItsMemory(BufferAllocator allocator)
      throws Exception {
    // One 40,000-row group: the scan's batches (and its native decode) outgrow the 8 MB limit.
    start(
        Map.of(
            "memory.query-limit", "8MB",
            "scan.batch-rows", "65536",
            "storage.row-group-rows", "1048576"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      putWide(client, allocator);
      // A narrow read of the same rows stays well under the limit and is open meanwhile.
      try (FlightStream narrow = client.getStream(ticket(client, "id"))) {
        assertThat(narrow.next()).isTrue();
        assertThatThrownBy(() -> readAll(client, client.getInfo(wide())))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> {
                  assertThat(e.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
                  assertThat(QuiverException.fromFlight(e).code())
                      .isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED);
                })
            .hasMessageContaining("DoGet ns.wide needs more than 8.0 MB (memory.query-limit)");
        long rows = narrow.getRoot().getRowCount();
        while (narrow.next()) {
          rows += narrow.getRoot().getRowCount();
        }
        assertThat(rows).isEqualTo(ROWS);
      }
      servers.awaitMemoryReturned();

      JsonNode report = memoryReport(client);
      assertThat(report.path("limit_hits").get(0).path("name").asText()).isEqualTo("DoGet ns.wide");
      assertThat(report.path("limit_hits").get(0).path("limit_key").asText())
          .isEqualTo("memory.query-limit");
      assertThat(report.path("recommendations").get(0).asText())
          .isEqualTo(
              "1 call hit memory.query-limit (8.0 MB) in the last hour; raise memory.query-limit"
                  + " or lower scan.batch-rows");
    }
  }

  @Test
  void aRawSubstraitScanOfATableLargerThanTheQueryLimitStaysWithinIt(BufferAllocator allocator)
      throws Exception {
    // A 16 MB table read under a 4 MB limit with a client's own Substrait filter. On
    // arrow-dataset (whose read-ahead has no byte bound) the scan outgrew the limit; read back as
    // a predicate it runs in DuckDB, which computes each batch when the client asks for it.
    start(Map.of("memory.query-limit", "4MB", "scan.batch-rows", "2000"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      putWide(client, allocator);
      Schema schema = client.getSchema(wide()).getSchema();
      Predicate atLeastTen =
          Predicate.newBuilder()
              .setComparison(
                  Comparison.newBuilder()
                      .setColumn("id")
                      .setOp(Comparison.Op.GE)
                      .setValue(Literal.newBuilder().setLongValue(10)))
              .build();
      ByteBuffer substrait =
          FilterTranslator.translate(
                  TableId.of("ns", "wide"),
                  Filter.newBuilder().setPredicate(atLeastTen).build(),
                  schema)
              .substrait();
      ScanCommand scan =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ns").setName("wide"))
              .setFilter(Filter.newBuilder().setSubstrait(ByteString.copyFrom(substrait)))
              .build();
      FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));

      long rows = 0;
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        rows += countRows(client, endpoint.getTicket());
      }

      assertThat(rows).isEqualTo(ROWS - 10);
      servers.awaitMemoryReturned();
      assertThat(memoryReport(client).path("limit_hits")).isEmpty();
    }
  }

  @Test
  void aPutOverTheQueryLimitFailsAloneAndCommitsNothing(BufferAllocator allocator)
      throws Exception {
    start(Map.of("memory.query-limit", "1MB", "memory.call-reservation", "0"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      // 2,000-row batches (about 800 KB each, and the writer's copy) do not fit in 1 MB.
      assertThatThrownBy(() -> putWide(client, allocator))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> {
                assertThat(e.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
                assertThat(QuiverException.fromFlight(e).code())
                    .isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED);
              })
          .hasMessageContaining("DoPut ns.wide needs more than 1.0 MB (memory.query-limit)");
      servers.awaitMemoryReturned();
      assertThatThrownBy(() -> client.getInfo(wide()))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table ns.wide does not exist");
    }
  }

  @Test
  void aDoGetWhoseClientStopsReadingTimesOutAndFreesItsMemory(BufferAllocator allocator)
      throws Exception {
    start(Map.of("scan.batch-rows", "1024", "flight.stall-timeout", "300ms"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      putWide(client, allocator);
      FlightInfo info = client.getInfo(wide());
      assertThatThrownBy(
              () -> {
                try (FlightStream stream =
                    client.getStream(info.getEndpoints().get(0).getTicket())) {
                  assertThat(stream.next()).isTrue();
                  // Stop reading until the server has given up on this call. The batches it had
                  // sent stay counted to the call, draining, until the client takes them.
                  Await.until(
                      () ->
                          server.memory().report().calls().stream()
                              .anyMatch(MemoryReport.CallUsage::draining),
                      "the server to give up on the call");
                  JsonNode draining = memoryReport(client).path("calls").get(0);
                  assertThat(draining.path("name").asText()).isEqualTo("DoGet ns.wide");
                  assertThat(draining.path("draining").asBoolean()).isTrue();
                  assertThat(draining.path("allocated").asLong()).isPositive();
                  while (stream.next()) {
                    // Drain what was in flight; the error follows it.
                  }
                }
              })
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.TIMED_OUT))
          .hasMessageContaining(
              "DoGet ns.wide: the client read nothing for 300 ms (flight.stall-timeout);"
                  + " cancelled");
      servers.awaitMemoryReturned();
    }
  }

  @Test
  void aCancelledDoGetFreesItsMemory(BufferAllocator allocator) throws Exception {
    start(Map.of("scan.batch-rows", "1024"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      putWide(client, allocator);
      FlightInfo info = client.getInfo(wide());
      FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket());
      assertThat(stream.next()).isTrue();
      assertThat(memoryReport(client).path("calls").get(0).path("name").asText())
          .isEqualTo("DoGet ns.wide");
      stream.cancel("The test has read enough", null);
      servers.awaitMemoryReturned();
      stream.close();
    }
  }

  @Test
  void callsThatCannotBeAdmittedWaitOrAreRefusedAndTheWaiterRunsWhenMemoryIsBack(
      BufferAllocator allocator) throws Exception {
    // Room for one call's reservation: a put holds it, the second call waits, the third
    // finds the queue full. A small transport reserve leaves the put room above the server margin.
    // memory.total 160MB leaves Arrow 96MB after the writer's 48MB and SQL's 16MB (the writer's
    // 16MB default share of a smaller total was tight enough for a put to fail now and then).
    start(
        Map.of(
            "memory.total", "160MB",
            "duckdb.memory-limit", "48MB",
            "sql.memory-limit", "16MB",
            "memory.transport-reserve", "8MB",
            "memory.call-reservation", "64MB",
            "memory.admission-queue", "1",
            "memory.admission-timeout", "5m",
            "scan.batch-rows", "1024"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot one =
            VectorSchemaRoot.create(
                new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true)))),
                allocator)) {
      putWide(client, allocator);
      Ticket ticket = ticket(client, "id");
      // The first call holds its reservation for as long as its client keeps the put open: a
      // read could finish server-side on its own once gRPC's flow-control window has grown.
      SyncPutListener holderResult = new SyncPutListener();
      FlightClient.ClientStreamListener holder =
          client.startPut(FlightDescriptor.path("ns", "holder"), one, holderResult);
      one.allocateNew();
      ((BigIntVector) one.getVector("id")).setSafe(0, 1);
      one.setRowCount(1);
      holder.putNext();
      Await.until(() -> server.memory().report().calls().size() == 1, "the put to hold memory");
      CompletableFuture<Long> second =
          CompletableFuture.supplyAsync(() -> countRows(client, ticket));
      Await.until(() -> server.memory().queued() == 1, "the second read to queue");

      assertThatThrownBy(
              () -> countRows(client, ticket), "a third read while %s", server.memory().report())
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> {
                assertThat(e.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
                assertThat(QuiverException.fromFlight(e).code())
                    .isEqualTo(QuiverErrorCode.SERVER_MEMORY_EXHAUSTED);
              })
          .hasMessageContaining("DoGet ns.wide: the server's Arrow memory is exhausted (")
          .hasMessageContaining(
              " of 96.0 MB in use, memory.total; each call reserves 64.0 MB,"
                  + " memory.call-reservation); the admission queue is full"
                  + " (memory.admission-queue = 1)");

      holder.completed(); // lets the next call in
      holder.getResult(); // throws if the put failed: it must have held its memory throughout
      holderResult.read().close();
      assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(ROWS);
      servers.awaitMemoryReturned();
      JsonNode report = memoryReport(client);
      assertThat(report.path("admission").path("waits").asLong()).isEqualTo(1);
      assertThat(report.path("admission").path("refused").asLong()).isEqualTo(1);
    }
  }

  @Test
  void scansBeyondTheSqlEnginesTurnsWaitOrAreRefusedAndTheWaiterRunsWhenATurnIsFree(
      BufferAllocator allocator) throws Exception {
    start(
        Map.of(
            "sql.max-concurrent-queries", "1",
            "memory.admission-queue", "1",
            "memory.admission-timeout", "5m",
            "scan.batch-rows", "1024"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      putWide(client, allocator);
      Ticket ticket = ticket(client, "id");
      CompletableFuture<Long> second;
      // A query run in-process holds the one turn for as long as the test keeps it open.
      try (BufferAllocator holderMemory = allocator.newChildAllocator("holder", 0, 1L << 20);
          SqlQuery holder = server.sql().prepare("SELECT 42 AS answer", "", List.of())) {
        holder.execute(holderMemory, 1024);
        second = CompletableFuture.supplyAsync(() -> countRows(client, ticket));
        Await.until(() -> server.sql().admission().queued() == 1, "the first scan to queue");

        assertThatThrownBy(() -> countRows(client, ticket), "a scan while the line is full")
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED))
            .hasMessageContaining(
                "DoGet ns.wide: the SQL engine is busy (running 1 of"
                    + " sql.max-concurrent-queries = 1 queries, which share sql.memory-limit);"
                    + " the queue is full (memory.admission-queue)");
        assertThat(second).isNotDone();
      }
      assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(ROWS);
      servers.awaitMemoryReturned();
      JsonNode queries = memoryReport(client).path("sql_queries");
      assertThat(queries.path("sql.max-concurrent-queries").asInt()).isEqualTo(1);
      assertThat(queries.path("running").asInt()).isZero();
      assertThat(queries.path("waits").asLong()).isEqualTo(1);
      assertThat(queries.path("refused").asLong()).isEqualTo(1);
    }
  }

  private static long countRows(FlightClient client, Ticket ticket) {
    try (FlightStream stream = client.getStream(ticket)) {
      long rows = 0;
      while (stream.next()) {
        rows += stream.getRoot().getRowCount();
      }
      return rows;
    } catch (FlightRuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void memoryReportDescribesLimitsUseAndAdvice(BufferAllocator allocator) throws Exception {
    start(Map.of("memory.admission-queue", "3", "memory.admission-timeout", "2s"));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      JsonNode report = memoryReport(client);
      assertThat(report.path("limits").path("memory.total").asLong()).isEqualTo(256L << 20);
      assertThat(report.path("limits").path("memory.query-limit").asLong()).isEqualTo(64L << 20);
      assertThat(report.path("limits").path("memory.call-reservation").asLong())
          .isEqualTo(1L << 20);
      assertThat(report.path("scan_batch_rows").path("scan.batch-rows").asInt()).isEqualTo(65_536);
      assertThat(report.path("scan_batch_rows").path("memory.high-pressure").asDouble())
          .isEqualTo(0.75);
      assertThat(report.path("limits").path("memory.admission-queue").asInt()).isEqualTo(3);
      assertThat(report.path("limits").path("memory.admission-timeout_ms").asLong())
          .isEqualTo(2000);
      assertThat(report.path("allocated").isNumber()).isTrue();
      assertThat(report.path("pressure").asDouble()).isBetween(0.0, 1.0);
      assertThat(report.path("admission").path("queued").asInt()).isZero();
      assertThat(report.path("calls").isArray()).isTrue();
      assertThat(report.path("limit_hits")).isEmpty();
      assertThat(report.path("recommendations").get(0).asText())
          .isEqualTo("No memory limit was hit in the last hour; nothing to change");
      List<String> actions = new ArrayList<>();
      client.listActions().forEach(a -> actions.add(a.getType()));
      assertThat(actions).contains("memory-report");
    }
  }

  private static JsonNode memoryReport(FlightClient client) throws Exception {
    StringBuilder out = new StringBuilder();
    var results = client.doAction(new Action("memory-report", new byte[0]));
    while (results.hasNext()) {
      Result result = results.next();
      out.append(new String(result.getBody(), StandardCharsets.UTF_8));
    }
    return JSON.readTree(out.toString());
  }

  private static FlightDescriptor wide() {
    return FlightDescriptor.path("ns", "wide");
  }

  private static Ticket ticket(FlightClient client, String column) {
    ScanCommand scan =
        ScanCommand.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace("ns").setName("wide"))
            .addColumns(column)
            .build();
    FlightInfo info = client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray()));
    assertThat(info.getEndpoints()).hasSize(1);
    return info.getEndpoints().get(0).getTicket();
  }

  private static void readAll(FlightClient client, FlightInfo info) throws Exception {
    try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
      while (stream.next()) {
        // Reading is the point.
      }
    }
  }

  /** Puts {@link #ROWS} rows of an id and four 100-byte text columns, 2,000 rows a batch. */
  private static void putWide(FlightClient client, BufferAllocator allocator) throws Exception {
    List<Field> fields = new ArrayList<>();
    fields.add(Field.nullable("id", new ArrowType.Int(64, true)));
    for (int c = 0; c < TEXT_COLUMNS; c++) {
      fields.add(Field.nullable("text" + c, ArrowType.Utf8.INSTANCE));
    }
    int batchRows = 2_000;
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(fields), allocator)) {
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream = client.startPut(wide(), root, listener);
      for (int first = 0; first < ROWS; first += batchRows) {
        root.allocateNew();
        BigIntVector ids = (BigIntVector) root.getVector("id");
        for (int i = 0; i < batchRows; i++) {
          ids.setSafe(i, first + i);
          for (int c = 0; c < TEXT_COLUMNS; c++) {
            ((VarCharVector) root.getVector("text" + c))
                .setSafe(i, new Text(String.format("%08d%s", first + i, PADDING)));
          }
        }
        root.setRowCount(batchRows);
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      listener.read().close();
      listener.close();
    }
  }
}
