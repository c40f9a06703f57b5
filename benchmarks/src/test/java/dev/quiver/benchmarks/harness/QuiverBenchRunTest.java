package dev.quiver.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Short harness runs against a real, in-process Quiver server on loopback. */
@ExtendWith(ArrowAllocatorExtension.class)
class QuiverBenchRunTest {
  @TempDir static Path dataDir;
  private static QuiverServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server =
        QuiverServer.start(
            ServerConfig.load(
                Map.of(),
                Map.of(),
                Map.of("flight.port", "0", "storage.data-dir", dataDir.toString())));
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  private static List<String> args(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--uri",
                server.uri(),
                "--streams",
                "2",
                "--threads",
                "2",
                "--records-per-stream",
                "2500",
                "--records-per-batch",
                "1000",
                "--warmup",
                "1",
                "--runs",
                "2",
                "--no-progress"));
    args.addAll(List.of(extra));
    return args;
  }

  @Test
  void getReadsEveryRowOfTheLoadedTableAndReportsPeakMemory(BufferAllocator allocator)
      throws Exception {
    BenchReport report =
        QuiverBench.measure(
            BenchOptions.parse(args("--mode", "get", "--schema", "mixed", "--path", "hb/get")),
            allocator,
            null);

    assertThat(report.runs()).hasSize(2);
    for (RunResult run : report.runs()) {
      assertThat(run.rows()).isEqualTo(5000);
      // Each stream reads 2,500 rows in at least 3 batches (1,000 + 1,000 + 500 were put).
      assertThat(run.batches()).isGreaterThanOrEqualTo(2);
      assertThat(run.bytes()).isGreaterThan(5000 * 8);
      assertThat(run.latencyNanos().max()).isGreaterThanOrEqualTo(run.latencyNanos().p50());
    }
    assertThat(report.serverKind()).isEqualTo("quiver");
    assertThat(report.serverPeakMemory()).hasValueSatisfying(p -> assertThat(p).isPositive());
  }

  @Test
  void putWritesEachStreamToANewTableAndDropsItAfterTheRun(BufferAllocator allocator)
      throws Exception {
    BenchReport report =
        QuiverBench.measure(
            BenchOptions.parse(args("--mode", "put", "--path", "hb/put")), allocator, null);

    for (RunResult run : report.runs()) {
      assertThat(run.rows()).isEqualTo(5000);
      // 2 full batches and the 500-row remainder per stream.
      assertThat(run.batches()).isEqualTo(6);
      // Four int64 columns at least.
      assertThat(run.bytes()).isGreaterThanOrEqualTo(5000 * 4 * 8);
    }
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      List<String> tables = new ArrayList<>();
      for (FlightInfo info :
          client.listFlights(new Criteria("hb".getBytes(StandardCharsets.UTF_8)))) {
        tables.add(String.join(".", info.getDescriptor().getPath()));
      }
      assertThat(tables).noneMatch(t -> t.startsWith("hb.put_"));
    }
  }

  @Test
  void parallelEndpointsReadEveryEndpointOfEachStreamAtOnce(
      BufferAllocator allocator, @TempDir Path otherData) throws Exception {
    // One endpoint per data file: three puts make three endpoints.
    try (QuiverServer small =
            QuiverServer.start(
                ServerConfig.load(
                    Map.of(),
                    Map.of(),
                    Map.of(
                        "flight.port",
                        "0",
                        "storage.data-dir",
                        otherData.toString(),
                        "flight.endpoint-target-size",
                        "1",
                        "maintenance.enabled",
                        "false")));
        QuiverClient client = QuiverClient.connect(small.location());
        VectorSchemaRoot root =
            VectorSchemaRoot.create(
                new Schema(List.of(Field.notNullable("id", new ArrowType.Int(64, true)))),
                allocator)) {
      BigIntVector ids = (BigIntVector) root.getVector(0);
      for (int put = 0; put < 3; put++) {
        ids.allocateNew(1000);
        for (int i = 0; i < 1000; i++) {
          ids.set(i, put * 1000L + i);
        }
        root.setRowCount(1000);
        client.put(TableId.of("hb", "parts"), root);
      }
      try (FlightClient flight = FlightClient.builder(allocator, small.location()).build()) {
        assertThat(flight.getInfo(FlightDescriptor.path("hb", "parts")).getEndpoints()).hasSize(3);
      }
      List<String> options =
          new ArrayList<>(
              List.of(
                  "--uri",
                  small.uri(),
                  "--streams",
                  "2",
                  "--threads",
                  "2",
                  "--runs",
                  "2",
                  "--warmup",
                  "0",
                  "--no-progress",
                  "--no-load",
                  "--mode",
                  "get",
                  "--path",
                  "hb/parts",
                  "--endpoints",
                  "parallel"));

      BenchReport report = QuiverBench.measure(BenchOptions.parse(options), allocator, null);

      assertThat(report.runs()).hasSize(2);
      assertThat(report.runs())
          .allSatisfy(
              run -> {
                assertThat(run.rows()).isEqualTo(2 * 3000);
                assertThat(run.batches()).isGreaterThanOrEqualTo(2 * 3);
              });
    }
  }

  @Test
  void getOfAGivenTicketSkipsPlanningAndLoading(BufferAllocator allocator) throws Exception {
    QuiverBench.measure(
        BenchOptions.parse(args("--mode", "get", "--path", "hb/ticket")), allocator, null);
    String ticket;
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightInfo info = client.getInfo(FlightDescriptor.path("hb", "ticket"));
      assertThat(info.getEndpoints()).hasSize(1);
      ticket =
          "base64:"
              + Base64.getEncoder()
                  .encodeToString(info.getEndpoints().get(0).getTicket().getBytes());
    }

    BenchReport report =
        QuiverBench.measure(
            BenchOptions.parse(args("--mode", "get", "--ticket", ticket)), allocator, null);

    assertThat(report.runs()).allSatisfy(run -> assertThat(run.rows()).isEqualTo(5000));
  }

  @Test
  void commandLineWritesTextAndJson(@TempDir Path out) throws Exception {
    Path json = out.resolve("nested/result.json");
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            args("--mode", "put", "--path", "hb/cli", "--json", json.toString(), "--label", "t"),
            new PrintStream(text, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(QuiverBench.OK);
    assertThat(text.toString(StandardCharsets.UTF_8))
        .contains("quiver-bench put int64x4 against " + server.uri() + " (quiver)")
        .contains("median")
        .contains("JSON: " + json);
    JsonNode report = BenchReport.read(json);
    assertThat(report.path("config").path("label").asText()).isEqualTo("t");
    assertThat(report.path("runs")).hasSize(2);
    assertThat(report.path("runs").get(0).path("rows").asLong()).isEqualTo(5000);
    assertThat(report.path("summary").path("rows_per_s").path("median").asDouble()).isPositive();
  }

  @Test
  void sqlModeRunsTheQueryOrSaysTheServerLacksFlightSql() {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            args("--mode", "sql", "--path", "hb/sql"),
            new PrintStream(text, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    // Until Flight SQL lands the server answers UNIMPLEMENTED; once it does, the query reads the
    // table the run loaded.
    if (exit == QuiverBench.UNSUPPORTED) {
      assertThat(err.toString(StandardCharsets.UTF_8))
          .startsWith("quiver-bench: the server does not support --mode sql (UNIMPLEMENTED");
    } else {
      assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(QuiverBench.OK);
      assertThat(text.toString(StandardCharsets.UTF_8)).contains("quiver-bench sql");
    }
  }

  @Test
  void compressionFromJavaIsRefusedWithTheReason() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            args("--compression", "zstd"),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(QuiverBench.UNSUPPORTED);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--compression zstd is not available from Java");
  }

  @Test
  void badArgumentsExitWithUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            List.of("--streams", "-1"),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(QuiverBench.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("quiver-bench: --streams must be at least 1, not -1" + System.lineSeparator());
  }

  @Test
  void unreachableServerFailsTheRun() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit =
        QuiverBench.run(
            List.of("--uri", "grpc://127.0.0.1:1", "--runs", "1", "--no-progress"),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).isEqualTo(QuiverBench.FAILED);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("quiver-bench: UNAVAILABLE");
  }
}
