package dev.quiver.benchmarks;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * DoGet and DoPut through a real, in-process {@link QuiverServer} (Iceberg table, zstd Parquet
 * written and scanned by DuckDB), driven by the SDK's {@link QuiverClient} on loopback.
 *
 * <p>doGet scans the whole table loaded in setup ({@code loadBatches} x {@code rowsPerBatch} rows
 * of {@code shape}); doPut appends {@code putBatches} batches to a fresh table, the table created
 * from the stream, and waits for the commit. Tables written in an iteration are dropped after it,
 * outside the measurement. Client, server, Parquet writer and reader share the JVM and the cores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 10)
@Measurement(iterations = 5, time = 10)
@Fork(1)
public class QuiverRoundTripBenchmark {
  private static final TableId SCANNED = TableId.of("bench", "scanned");

  /** int64x4 (four int64 columns) or mixed (int64, string, timestamp, decimal). */
  @Param({"int64x4", "mixed"})
  public String shape;

  /** Batches in the table doGet reads. */
  @Param("64")
  public int loadBatches;

  /** Batches each doPut writes. */
  @Param("16")
  public int putBatches;

  /** Rows per batch. */
  @Param("65536")
  public int rowsPerBatch;

  /**
   * The server's telemetry: off, or on with failing OTLP export and Prometheus (TelemetryVariant).
   */
  @Param("off")
  public String telemetry = "off";

  private BufferAllocator root;
  private BufferAllocator dataAllocator;
  private BenchmarkData data;
  private Path dataDir;
  private QuiverServer server;
  private QuiverClient client;
  private long tableRows;
  private long putBytes;
  private int putCount;
  private final List<TableId> written = new ArrayList<>();

  /** Starts the server in a temporary folder and loads the table doGet reads. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      dataAllocator = root.newChildAllocator("data", 0, Long.MAX_VALUE);
      data =
          BenchmarkData.build(
              dataAllocator,
              BenchmarkData.Shape.fromName(shape),
              Math.max(loadBatches, putBatches),
              rowsPerBatch);
      dataDir = Files.createTempDirectory("quiver-bench");
      server =
          TelemetryVariant.start(
              telemetry,
              Map.of(
                  "flight.port", "0",
                  "storage.data-dir", dataDir.toString(),
                  "memory.total", "2GB"));
      client =
          QuiverClient.connect(
              server.location(), ClientOptions.builder().parentAllocator(root).build());
      PutReceipt loaded = put(SCANNED, loadBatches);
      tableRows = loaded.rows();
      putBytes =
          data.batches().subList(0, putBatches).stream()
              .mapToLong(ArrowRecordBatch::computeBodyLength)
              .sum();
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Scans every row of the table; counts rows and bytes of the Arrow buffers received. */
  @Benchmark
  public long doGet(Throughput counters) throws IOException {
    long rows = 0;
    long bytes = 0;
    try (ArrowReader reader = client.scan(SCANNED)) {
      VectorSchemaRoot batch = reader.getVectorSchemaRoot();
      while (reader.loadNextBatch()) {
        rows += batch.getRowCount();
        for (FieldVector vector : batch.getFieldVectors()) {
          bytes += vector.getBufferSize();
        }
      }
    }
    if (rows != tableRows) {
      throw new IllegalStateException("Scanned " + rows + " rows, expected " + tableRows);
    }
    counters.add(rows, bytes);
    return rows;
  }

  /** Appends {@code putBatches} batches to a new table and waits for the commit. */
  @Benchmark
  public PutReceipt doPut(Throughput counters) throws IOException {
    TableId table = TableId.of("bench", "put_" + putCount++);
    written.add(table);
    PutReceipt receipt = put(table, putBatches);
    counters.add(receipt.rows(), putBytes);
    return receipt;
  }

  /**
   * Puts the first {@code batchCount} batches of the data into {@code table}, checking the rows.
   */
  private PutReceipt put(TableId table, int batchCount) throws IOException {
    try (BatchReplayReader reader =
        new BatchReplayReader(root, data.schema(), data.batches().subList(0, batchCount))) {
      PutReceipt receipt = client.put(table, reader);
      long expected = (long) batchCount * rowsPerBatch;
      if (receipt.rows() != expected) {
        throw new IllegalStateException(
            "Put " + receipt.rows() + " rows into " + table + ", expected " + expected);
      }
      return receipt;
    }
  }

  /** Drops the tables doPut wrote in this iteration, so the disk does not fill. */
  @TearDown(Level.Iteration)
  public void dropWrittenTables() {
    for (TableId table : written) {
      client.dropTable(table);
    }
    written.clear();
  }

  /** Closes client and server, deletes the data folder, then fails if Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BenchmarkResources.closeThenCheckLeaks(
        root,
        client,
        server,
        data,
        dataAllocator,
        () -> BenchmarkResources.deleteRecursively(dataDir));
  }
}
