package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.server.sql.SqlQuery;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server with a small memory budget (memory.total 64MB: Arrow gets 32 MB, each DuckDB 16 MB)
 * slows down instead of failing: large puts and concurrent calls complete (issue 18).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SmallMemoryTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable("x", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
              Field.nullable("s", ArrowType.Utf8.INSTANCE)));

  /** Makes s about 40 bytes: a 65,536-row batch is then about 3.7 MB, as in the issue. */
  static final String PAD = "-".repeat(60);

  @TempDir Path dataDir;

  private QuiverServer start(String... settings) throws Exception {
    String[] all = new String[settings.length + 2];
    all[0] = "memory.total";
    all[1] = "64MB";
    System.arraycopy(settings, 0, all, 2, settings.length);
    return servers.start(dataDir, all);
  }

  @Test
  @Timeout(120)
  void putOfLargeBatchesFitsA64MbBudget(BufferAllocator allocator) throws Exception {
    QuiverServer server = start();
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, FlightDescriptor.path("m", "one"), 1 << 20, 65_536, PAD);
      assertThat(server.memory().peak()).isLessThanOrEqualTo(32L << 20);
      assertThat(count(client, FlightDescriptor.path("m", "one"))).isEqualTo(1 << 20);
    }
  }

  @Test
  @Timeout(180)
  void putOfEightMillionRowsFitsTheWritersBudget(BufferAllocator allocator) throws Exception {
    QuiverServer server = start();
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, FlightDescriptor.path("m", "big"), 8 << 20, 8_192, "");
    }
  }

  @Test
  @Timeout(240)
  void fourPutsAndTenScansCompleteTogether(BufferAllocator allocator) throws Exception {
    // Scans take turns for the SQL engine's 16 MB one at a time: the last waits for nine.
    QuiverServer server = start("memory.admission-timeout", "3m");
    ExecutorService pool = Executors.newFixedThreadPool(14);
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, FlightDescriptor.path("m", "read"), 1 << 20, 65_536, "");
      List<Future<Long>> calls = new ArrayList<>();
      for (int p = 0; p < 4; p++) {
        FlightDescriptor table = FlightDescriptor.path("m", "put" + p);
        calls.add(
            pool.submit(
                () -> {
                  try {
                    put(client, allocator, table, 1 << 19, 65_536, PAD);
                  } catch (Exception e) {
                    throw new AssertionError("The put to " + table + " failed", e);
                  }
                  return (long) (1 << 19);
                }));
      }
      for (int r = 0; r < 10; r++) {
        calls.add(
            pool.submit(
                () -> {
                  try {
                    return count(client, FlightDescriptor.path("m", "read"));
                  } catch (Exception e) {
                    throw new AssertionError("A scan failed", e);
                  }
                }));
      }
      for (int i = 0; i < calls.size(); i++) {
        assertThat(calls.get(i).get(200, TimeUnit.SECONDS)).isEqualTo(i < 4 ? 1L << 19 : 1L << 20);
      }
      for (int p = 0; p < 4; p++) {
        assertThat(count(client, FlightDescriptor.path("m", "put" + p))).isEqualTo(1 << 19);
      }
      // 16 MB of duckdb.memory-limit is one writer turn: the puts took turns, and the report says
      // so.
      AdmissionQueue.Status writes =
          server.memory().admission().status(AdmissionQueue.Resource.WRITER_TURN);
      assertThat(writes.waits()).isPositive();
      assertThat(writes.refused()).isZero();
      // Scans that found the memory taken by the puts waited for room instead of failing.
      assertThat(server.memory().roomWaits().refused()).isZero();
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  @Timeout(240)
  void sixFlightSqlQueriesBeyondTheSqlMemoryLimitAllComplete(BufferAllocator allocator)
      throws Exception {
    // sql.memory-limit 16MB is one SQL turn: the queries run one at a time, the rest wait, and
    // two puts take Arrow memory meanwhile.
    QuiverServer server =
        start("sql.memory-limit", "16MB", "memory.admission-timeout", "3m", "sql.threads", "1");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(client)) {
      put(client, allocator, FlightDescriptor.path("m", "big"), 1 << 20, 65_536, PAD);
      List<FlightInfo> infos = new ArrayList<>();
      for (int q = 0; q < 6; q++) {
        infos.add(
            sql.execute(
                q % 3 == 2
                    ? "SELECT id % 100 AS k, count(*) AS n FROM m.big GROUP BY k"
                    : "SELECT id, x, s FROM m.big WHERE id % 2 = " + (q % 2)));
      }
      List<Future<Long>> queries = new ArrayList<>();
      // A query run in-process holds the one turn until all six wait for it, so that they all
      // have to wait, whatever the machine's timing.
      try (BufferAllocator holderMemory = allocator.newChildAllocator("holder", 0, 1L << 20);
          SqlQuery holder = server.sql().prepare("SELECT 42 AS answer", "", List.of())) {
        holder.execute(holderMemory, 1024);
        for (FlightInfo info : infos) {
          queries.add(pool.submit(() -> rows(client, info)));
        }
        Await.until(
            () -> server.sql().admission().queued() == 6, "the six queries to wait for a turn");
        for (int p = 0; p < 2; p++) {
          FlightDescriptor table = FlightDescriptor.path("m", "put" + p);
          queries.add(
              pool.submit(
                  () -> {
                    put(client, allocator, table, 1 << 19, 65_536, PAD);
                    return count(client, table);
                  }));
        }
      }
      for (int q = 0; q < 8; q++) {
        assertThat(queries.get(q).get(200, TimeUnit.SECONDS))
            .as("rows of call %d", q)
            .isEqualTo(q % 3 == 2 && q < 6 ? 100L : 1L << 19);
      }
      JsonNode report = memoryReport(client);
      assertThat(report.path("sql_queries").path("sql.max-concurrent-queries").asInt())
          .isEqualTo(1);
      // The six queries waited; the puts' counts may have waited too.
      assertThat(report.path("sql_queries").path("waits").asLong()).isBetween(6L, 8L);
      assertThat(report.path("sql_queries").path("refused").asLong()).isZero();
      assertThat(report.path("room_waits").path("refused").asLong()).isZero();
      assertThat(report.path("limit_hits")).isEmpty();
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  @Timeout(120)
  void aBatchThatCannotFitAloneIsRefusedNamingTheKey(BufferAllocator allocator) throws Exception {
    QuiverServer server = start("memory.admission-timeout", "1s");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      // One batch of about 38 MB: more than Arrow's whole 32 MB share.
      assertThatThrownBy(
              () ->
                  put(client, allocator, FlightDescriptor.path("m", "huge"), 1 << 19, 1 << 19, PAD))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED))
          .hasMessageContaining("no Arrow memory to decode the incoming message")
          .hasMessageContaining("memory.transport-reserve")
          .hasMessageContaining("Unable to allocate buffer of size");
      // The server keeps serving: a put that fits still goes through.
      put(client, allocator, FlightDescriptor.path("m", "small"), 65_536, 8_192, "");
      assertThat(count(client, FlightDescriptor.path("m", "small"))).isEqualTo(65_536);
    }
  }

  /** Puts {@code rows} rows of (id, x, s) in batches of {@code batchRows}. */
  static void put(
      FlightClient client,
      BufferAllocator allocator,
      FlightDescriptor descriptor,
      long rows,
      int batchRows,
      String pad)
      throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream = client.startPut(descriptor, root, listener);
      BigIntVector ids = (BigIntVector) root.getVector("id");
      Float8Vector xs = (Float8Vector) root.getVector("x");
      VarCharVector ss = (VarCharVector) root.getVector("s");
      for (long first = 0; first < rows; first += batchRows) {
        int n = (int) Math.min(batchRows, rows - first);
        ids.allocateNew(n);
        xs.allocateNew(n);
        ss.allocateNew(n * (16L + pad.length()), n);
        for (int i = 0; i < n; i++) {
          long id = first + i;
          ids.setSafe(i, id);
          xs.setSafe(i, id * 0.5);
          ss.setSafe(i, ("name-" + id + pad).getBytes(StandardCharsets.UTF_8));
        }
        root.setRowCount(n);
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      listener.read().close();
      listener.close();
    }
  }

  static long count(FlightClient client, FlightDescriptor descriptor) throws Exception {
    return rows(client, client.getInfo(descriptor));
  }

  /** Rows of every endpoint of {@code info}, read to the end. */
  static long rows(FlightClient client, FlightInfo info) throws Exception {
    long rows = 0;
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          rows += stream.getRoot().getRowCount();
        }
      }
    }
    return rows;
  }

  static JsonNode memoryReport(FlightClient client) throws Exception {
    StringBuilder out = new StringBuilder();
    Iterator<Result> results = client.doAction(new Action("memory-report", new byte[0]));
    while (results.hasNext()) {
      out.append(new String(results.next().getBody(), StandardCharsets.UTF_8));
    }
    return new ObjectMapper().readTree(out.toString());
  }
}
