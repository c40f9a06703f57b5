package dev.quiver.benchmarks;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.Filters;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
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
 * A one-day filter on a one-year table, partitioned by {@code day(ts)} or not: the same rows (one
 * put of {@code days} x {@code rowsPerDay} rows in time order: an id, a timestamp, a double) in an
 * in-process {@link QuiverServer}, scanned through the SDK with {@code ts >= day d AND ts < day
 * d+1}. Partitioned, Iceberg prunes to one day's file; unpartitioned, the put is one file of one
 * row group, which DuckDB reads whole to filter it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class PartitionPruningBenchmark {
  private static final TableId TABLE = TableId.of("bench", "events");
  private static final long DAY_MICROS = 86_400_000_000L;
  private static final long YEAR_START_MICROS = 1_767_225_600_000_000L; // 2026-01-01T00:00Z

  static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable(
                  "ts",
                  new ArrowType.Timestamp(
                      org.apache.arrow.vector.types.TimeUnit.MICROSECOND, null)),
              Field.nullable("value", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))));

  /** unpartitioned or day (partitioned by day(ts)). */
  @Param({"unpartitioned", "day"})
  public String layout;

  /** Days in the table. */
  @Param("365")
  public int days;

  /** Rows per day. */
  @Param("2000")
  public int rowsPerDay;

  /** The day the filter keeps. */
  @Param("200")
  public int filterDay;

  private BufferAllocator root;
  private Path dataDir;
  private QuiverServer server;
  private QuiverClient client;
  private ScanOptions oneDay;

  /** Starts the server and loads the year into the table, partitioned or not. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      dataDir = Files.createTempDirectory("quiver-bench");
      server = startServer(dataDir);
      client =
          QuiverClient.connect(
              server.location(), ClientOptions.builder().parentAllocator(root).build());
      try (VectorSchemaRoot batch = VectorSchemaRoot.create(SCHEMA, root)) {
        createTable(server, client, TABLE, batch, layout);
        fill(batch, days, rowsPerDay);
        PutReceipt receipt = client.put(TABLE, batch);
        if (receipt.rows() != (long) days * rowsPerDay) {
          throw new IllegalStateException("Put " + receipt.rows() + " rows");
        }
      }
      long from = YEAR_START_MICROS + filterDay * DAY_MICROS;
      oneDay =
          ScanOptions.builder()
              .filter(Filters.and(Filters.ge("ts", from), Filters.lt("ts", from + DAY_MICROS)))
              .build();
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Starts a server in {@code dataDir} for the partitioning benchmarks: no telemetry, no timer. */
  static QuiverServer startServer(Path dataDir) throws IOException {
    return TelemetryVariant.start(
        "off",
        Map.of(
            "flight.port", "0",
            "storage.data-dir", dataDir.toString(),
            "memory.total", "1GB",
            "maintenance.enabled", "false"));
  }

  /**
   * Creates {@code table} by putting {@code empty} (a batch of {@link #SCHEMA}, no rows), then
   * partitions it by {@code day(ts)} when {@code layout} is day.
   */
  static void createTable(
      QuiverServer server,
      QuiverClient client,
      TableId table,
      VectorSchemaRoot empty,
      String layout) {
    empty.setRowCount(0);
    client.put(table, empty);
    if (layout.equals("day")) {
      server.store().setPartitioning(table, List.of("day(ts)"));
    } else if (!layout.equals("unpartitioned")) {
      throw new IllegalArgumentException("layout is unpartitioned or day, not " + layout);
    }
  }

  private static void fill(VectorSchemaRoot batch, int days, int rowsPerDay) {
    int rows = days * rowsPerDay;
    BigIntVector ids = (BigIntVector) batch.getVector("id");
    TimeStampMicroVector ts = (TimeStampMicroVector) batch.getVector("ts");
    Float8Vector values = (Float8Vector) batch.getVector("value");
    ids.allocateNew(rows);
    ts.allocateNew(rows);
    values.allocateNew(rows);
    long step = DAY_MICROS / rowsPerDay;
    for (int i = 0; i < rows; i++) {
      ids.set(i, i);
      ts.set(i, YEAR_START_MICROS + (i / rowsPerDay) * DAY_MICROS + (i % rowsPerDay) * step);
      values.set(i, i * 0.5);
    }
    batch.setRowCount(rows);
  }

  /** Scans one day of the year; returns the rows, checked to be that day's. */
  @Benchmark
  public long oneDayScan() throws IOException {
    long rows = 0;
    try (ArrowReader reader = client.scan(TABLE, oneDay)) {
      while (reader.loadNextBatch()) {
        rows += reader.getVectorSchemaRoot().getRowCount();
      }
    }
    if (rows != rowsPerDay) {
      throw new IllegalStateException("Scanned " + rows + " rows, expected " + rowsPerDay);
    }
    return rows;
  }

  /** Closes client and server, deletes the data folder, then fails if Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BenchmarkResources.closeThenCheckLeaks(
        root, client, server, () -> BenchmarkResources.deleteRecursively(dataDir));
  }
}
