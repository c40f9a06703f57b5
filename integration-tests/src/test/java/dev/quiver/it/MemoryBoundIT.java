package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Memory governance against the real server under a small heap: a table many times larger than the
 * server's whole Arrow budget is read by ten readers while four writers load more, and every call
 * either completes or is refused with RESOURCE_EXHAUSTED; the server survives and its memory
 * returns to zero.
 *
 * <p>DoGet scans are pulled from DuckDB a batch at a time (docs/architecture.md, "Scan
 * read-ahead"), so a full scan of this table holds about one batch and the scans complete; only
 * puts may be refused. A slow pyarrow reader of the same table keeps the server's Arrow memory
 * under the query limit the whole time.
 *
 * <p>The server runs as the issue asks: {@code -Xmx256m} (so direct memory is 256 MB too) and
 * {@code memory.total} 128 MB with the default split: the Parquet writer's DuckDB and the SQL
 * engine's get 16 MB each, so DoGet scans take turns in DuckDB (sql.max-concurrent-queries auto is
 * one) and wait for them up to {@code memory.admission-timeout}, here 15 minutes (the last of ten
 * waits for nine whole scans); Arrow gets 96 MB, a quarter of it kept for Flight's transport;
 * {@code memory.query-limit} 64 MB. 128Ki-row groups keep a scan's DuckDB memory to a few MB. The
 * table is {@link #ROWS} rows of four int64 columns: in CI 512 MiB as Arrow (4 x memory.total),
 * since the scans take turns and CI has two cores; {@code -Dquiver.it.memory-bound.rows=N} runs a
 * larger one (33554432 rows is 1 GiB, 134217728 the several GB: 4 GiB).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class MemoryBoundIT {
  private static final long MB = 1024 * 1024;
  private static final long QUERY_LIMIT = 64 * MB;
  // Direct memory is the heap size. Arrow and gRPC allocate unpooled, so the direct memory they
  // hold is what calls and the transport hold (docs/architecture.md, "Direct memory"); with
  // Netty's pools, ten scans beside four puts passed 256 MB of it. The transport reserve is the
  // default quarter of Arrow's share (24 MB); a put's decoding past it waits for memory.
  private static final List<String> SERVER_JVM = List.of("-Xmx256m");
  private static final String[] SERVER_ARGS = {
    "--memory.total", "128MB",
    "--storage.row-group-rows", "131072",
    "--memory.query-limit", "64MB",
    "--memory.admission-timeout", "15m"
  };
  private static final long ARROW = 96 * MB; // memory.total less the two DuckDB limits

  private static final String NAMESPACE = "bound";
  private static final String TABLE = "big";
  private static final FlightDescriptor BIG = FlightDescriptor.path(NAMESPACE, TABLE);
  private static final long ROWS = Long.getLong("quiver.it.memory-bound.rows", 16L << 20);
  private static final int BATCH_ROWS = 65_536;
  private static final long PUT_ROWS = 8L << 20; // 256 MiB per concurrent put
  private static final long FRAME = 4 * MB; // a 64K-row batch of four int64s, rounded up
  private static final int SCANS = 10;
  private static final int PUTS = 4;
  private static final Duration CALLS_TIMEOUT = Duration.ofMinutes(15);
  private static final Duration PYTHON_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

  private static final Schema SCHEMA =
      new Schema(List.of(column("id"), column("tripled"), column("bucket"), column("negated")));
  private static final ObjectMapper JSON = new ObjectMapper();

  private static QuiverServerProcess server;

  @BeforeAll
  static void loadBigTable() throws Exception {
    server = QuiverServerProcess.startWithJvmOptions(SERVER_JVM, SERVER_ARGS);
    try (RootAllocator allocator = new RootAllocator();
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      put(client, allocator, BIG, ROWS);
    }
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void tenConcurrentScansOfATableManyTimesMemoryTotalAllComplete(BufferAllocator allocator)
      throws Exception {
    // Paced scans hold about a batch of Arrow memory each (before, with arrow-dataset's
    // read-ahead, none of the ten completed).
    assertThat(scansAndPuts(allocator, 0)).as("scans completed").isEqualTo(SCANS);
  }

  @Test
  void tenScansAndFourPutsUnderA256MbHeapFinishOrAreRefusedCleanly(BufferAllocator allocator)
      throws Exception {
    // The puts' incoming batches may crowd scans out of Arrow's share (a clean refusal).
    int completedScans = scansAndPuts(allocator, PUTS);
    System.out.printf(
        "MemoryBoundIT: %d of %d scans completed beside the puts%n", completedScans, SCANS);

    JsonNode report;
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      report = FlightTables.awaitIdle(client, SETTLE_TIMEOUT);
    }
    assertThat(report.get("allocated").asLong()).as("allocated once idle; %s", report).isZero();
    // The root's peak counts a batch twice for the instant DoPut moves it from the transport to
    // its call allocator (Arrow charges the target before the source lets go): one frame per put.
    assertThat(report.get("limits").get("arrow").asLong()).isEqualTo(ARROW);
    assertThat(report.get("peak").asLong()).isLessThanOrEqualTo(ARROW + PUTS * FRAME);
    assertThat(report.get("sql_import_allocated").asLong()).isZero();
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightDescriptor fresh = FlightDescriptor.path(NAMESPACE, "fresh");
      put(client, allocator, fresh, BATCH_ROWS);
      assertThat(count(client, fresh)).isEqualTo(BATCH_ROWS);
    }
    assertThat(server.isAlive()).isTrue();
    assertThat(Files.readString(server.logFile(), StandardCharsets.UTF_8))
        .doesNotContain("OutOfMemoryError");
  }

  @Test
  void aSlowPyarrowReaderKeepsServerMemoryUnderTheQueryLimit() throws Exception {
    Path scripts = Paths.get(QuiverServerProcess.requiredProperty("quiver.pytests.dir"));
    Path python = PythonVenv.ensure(scripts.resolve("requirements.txt"));
    Path out = QuiverServerProcess.logsDir().resolve("slow-reader.json").toAbsolutePath();
    ProcessBuilder builder =
        new ProcessBuilder(
                python.toString(),
                scripts.resolve("slow_reader.py").toString(),
                "--uri",
                server.uri(),
                "--namespace",
                NAMESPACE,
                "--table",
                TABLE,
                "--pause-ms",
                "40",
                "--out",
                out.toString())
            .directory(scripts.toFile());
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");

    int exitCode =
        ChildProcesses.run(
            builder,
            "[slow-reader] ",
            QuiverServerProcess.logsDir().resolve("slow-reader.log"),
            PYTHON_TIMEOUT);

    assertThat(exitCode).as("slow_reader.py exit code (see slow-reader.log)").isZero();
    JsonNode result = JSON.readTree(Files.readString(out, StandardCharsets.UTF_8));
    assertThat(result.get("rows").asLong()).isEqualTo(ROWS);
    for (int c = 0; c < SCHEMA.getFields().size(); c++) {
      String name = SCHEMA.getFields().get(c).getName();
      assertThat(new BigInteger(result.get("sums").get(name).asText()))
          .as("sum of %s", name)
          .isEqualTo(expectedSum(c, ROWS));
    }
    // A reader this slow (256 batches of 64Ki rows in CI, 40 ms apart) spends over 10 s in its
    // pauses: many samples, all under the limit.
    assertThat(result.get("samples").asInt()).isGreaterThan(100);
    assertThat(result.get("max_allocated").asLong())
        .as("the server's Arrow allocation while the slow read ran")
        .isPositive()
        .isLessThan(QUERY_LIMIT);
  }

  /**
   * Runs {@link #SCANS} full scans and {@code puts} puts at once; every call completes with the
   * right rows or is refused for memory. Returns how many scans completed.
   */
  private int scansAndPuts(BufferAllocator allocator, int puts) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(SCANS + puts);
    List<Future<Outcome>> scanCalls = new ArrayList<>();
    List<Future<Outcome>> putCalls = new ArrayList<>();
    try {
      for (int i = 0; i < SCANS; i++) {
        String name = "scan-" + i;
        scanCalls.add(pool.submit(() -> outcome(name, allocator, this::scanAll)));
      }
      for (int i = 0; i < puts; i++) {
        String name = "put-" + i;
        FlightDescriptor target = FlightDescriptor.path(NAMESPACE, "put_" + i);
        putCalls.add(
            pool.submit(
                () ->
                    outcome(
                        name, allocator, (client, alloc) -> put(client, alloc, target, PUT_ROWS))));
      }
      int completedScans = 0;
      for (Future<Outcome> scan : scanCalls) {
        Outcome outcome = scan.get(CALLS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome.completed()) {
          completedScans++;
          assertThat(outcome.rows()).as(outcome.name()).isEqualTo(ROWS);
          assertThat(outcome.idSum()).as(outcome.name()).isEqualTo(expectedSum(0, ROWS));
        }
      }
      for (Future<Outcome> put : putCalls) {
        Outcome outcome = put.get(CALLS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome.completed()) {
          assertThat(outcome.rows()).as(outcome.name()).isEqualTo(PUT_ROWS);
        }
      }
      return completedScans;
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  /** What one concurrent call ended with: completed (with its rows) or refused for memory. */
  private record Outcome(String name, boolean completed, long rows, BigInteger idSum) {}

  @FunctionalInterface
  private interface Call {
    Outcome run(FlightClient client, BufferAllocator allocator) throws Exception;
  }

  /**
   * Runs {@code call} on a client of its own; RESOURCE_EXHAUSTED is an allowed outcome, any other
   * failure fails the test.
   */
  private Outcome outcome(String name, BufferAllocator allocator, Call call) throws Exception {
    try (BufferAllocator child = allocator.newChildAllocator(name, 0, Long.MAX_VALUE);
        FlightClient client = FlightClient.builder(child, server.location()).build()) {
      Outcome done = call.run(client, child);
      return new Outcome(name, true, done.rows(), done.idSum());
    } catch (FlightRuntimeException e) {
      assertThat(e.status().code())
          .as("%s failed with %s", name, e.getMessage())
          .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
      assertThat(e.getMessage()).contains("memory");
      System.out.printf("MemoryBoundIT: %s refused: %s%n", name, e.getMessage());
      return new Outcome(name, false, 0, BigInteger.ZERO);
    }
  }

  /** Reads every endpoint of the big table, counting rows and summing ids. */
  private Outcome scanAll(FlightClient client, BufferAllocator allocator) throws Exception {
    FlightInfo info = client.getInfo(BIG);
    long rows = 0;
    BigInteger ids = BigInteger.ZERO;
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          BigIntVector id = (BigIntVector) stream.getRoot().getVector("id");
          long batchSum = 0;
          for (int i = 0; i < id.getValueCount(); i++) {
            batchSum += id.get(i);
          }
          ids = ids.add(BigInteger.valueOf(batchSum));
          rows += stream.getRoot().getRowCount();
        }
      }
    }
    return new Outcome("scan", true, rows, ids);
  }

  private static long count(FlightClient client, FlightDescriptor table) throws Exception {
    long rows = 0;
    for (FlightEndpoint endpoint : client.getInfo(table).getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          rows += stream.getRoot().getRowCount();
        }
      }
    }
    return rows;
  }

  /** Appends rows {@code [0, rows)} to {@code table} with one DoPut. */
  private static Outcome put(
      FlightClient client, BufferAllocator allocator, FlightDescriptor table, long rows)
      throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(table, root, listener);
      for (long first = 0; first < rows; first += BATCH_ROWS) {
        int count = (int) Math.min(BATCH_ROWS, rows - first);
        for (int c = 0; c < SCHEMA.getFields().size(); c++) {
          BigIntVector vector = (BigIntVector) root.getVector(c);
          vector.allocateNew(count);
          for (int i = 0; i < count; i++) {
            vector.set(i, value(c, first + i));
          }
        }
        root.setRowCount(count);
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      listener.read().close();
    }
    return new Outcome("put", true, rows, BigInteger.ZERO);
  }

  /** Column {@code c} of row {@code row}: id, 3 x id + 1, id mod 1009, -id. */
  private static long value(int c, long row) {
    return switch (c) {
      case 0 -> row;
      case 1 -> 3 * row + 1;
      case 2 -> row % 1009;
      default -> -row;
    };
  }

  private static BigInteger expectedSum(int c, long rows) {
    long sum = 0; // fits up to 2^30 rows: |sum| < 3 x 2^30 x 2^30
    for (long row = 0; row < rows; row++) {
      sum += value(c, row);
    }
    return BigInteger.valueOf(sum);
  }

  private static Field column(String name) {
    return new Field(name, FieldType.notNullable(new ArrowType.Int(64, true)), null);
  }
}
