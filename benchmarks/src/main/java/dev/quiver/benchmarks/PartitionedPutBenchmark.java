package dev.quiver.benchmarks;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.VectorSchemaRoot;
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
 * What routing rows to partitions costs a put whose rows all fall in one partition: the same batch
 * ({@code rows} rows of one day: an id, a timestamp, a double) appended to a table that is
 * unpartitioned (the put path as before partitioning) or partitioned by {@code day(ts)} (a
 * partition key per row, the batch spilled to Arrow IPC and read back into the Parquet writer).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class PartitionedPutBenchmark {
  private static final TableId TABLE = TableId.of("bench", "puts");

  /** unpartitioned or day (partitioned by day(ts)). */
  @Param({"unpartitioned", "day"})
  public String layout;

  /** Rows per put. */
  @Param("1000000")
  public int rows;

  private BufferAllocator root;
  private Path dataDir;
  private QuiverServer server;
  private QuiverClient client;
  private VectorSchemaRoot batch;

  /** Starts the server, creates the table and builds the batch every put sends. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      dataDir = Files.createTempDirectory("quiver-bench");
      server = PartitionPruningBenchmark.startServer(dataDir);
      client =
          QuiverClient.connect(
              server.location(), ClientOptions.builder().parentAllocator(root).build());
      batch = VectorSchemaRoot.create(PartitionPruningBenchmark.SCHEMA, root);
      PartitionPruningBenchmark.createTable(server, client, TABLE, batch, layout);
      BigIntVector ids = (BigIntVector) batch.getVector("id");
      TimeStampMicroVector ts = (TimeStampMicroVector) batch.getVector("ts");
      Float8Vector values = (Float8Vector) batch.getVector("value");
      ids.allocateNew(rows);
      ts.allocateNew(rows);
      values.allocateNew(rows);
      for (int i = 0; i < rows; i++) {
        ids.set(i, i);
        ts.set(i, 1_767_225_600_000_000L + i * 1000L); // within 2026-01-01 for up to 86 M rows
        values.set(i, i * 0.5);
      }
      batch.setRowCount(rows);
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Appends the batch and waits for the commit. */
  @Benchmark
  public PutReceipt put() throws IOException {
    PutReceipt receipt = client.put(TABLE, batch);
    if (receipt.rows() != rows) {
      throw new IllegalStateException("Put " + receipt.rows() + " rows, expected " + rows);
    }
    return receipt;
  }

  /** Closes client and server, deletes the data folder, then fails if Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BenchmarkResources.closeThenCheckLeaks(
        root, batch, client, server, () -> BenchmarkResources.deleteRecursively(dataDir));
  }
}
