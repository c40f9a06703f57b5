package dev.quiver.benchmarks;

import dev.quiver.server.table.parquet.ArrowSchemas;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.server.table.parquet.TableScan;
import dev.quiver.server.table.parquet.WrittenFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
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
 * Quiver's Parquet layer without Flight or Iceberg: {@code write} puts {@code batches} x {@code
 * rowsPerBatch} rows of {@code shape} through DuckDbParquetWriter as the server does (zstd at
 * {@code zstdLevel}, 1 Mi-row groups); {@code scan} reads a file written in setup back through
 * TableScan (arrow-dataset, native memory charged to the allocator, conformed to the table's
 * types).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class ParquetBenchmark {
  /** int64x4 or mixed. */
  @Param({"int64x4", "mixed"})
  public String shape;

  /** The zstd level write uses (scan reads a file written at Quiver's default, 1). */
  @Param({"1", "3"})
  public int zstdLevel;

  /** Batches per file. */
  @Param("32")
  public int batches;

  /** Rows per batch (and per scanned batch). */
  @Param("65536")
  public int rowsPerBatch;

  private BufferAllocator root;
  private BenchmarkData data;
  private Path dir;
  private DuckDbParquetWriter writer;
  private Schema schema;
  private org.apache.iceberg.Schema icebergSchema;
  private List<String> scanned;
  private int written;

  /** Builds the batches, opens the writer and writes the file scan reads. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      data = BenchmarkData.build(root, BenchmarkData.Shape.fromName(shape), batches, rowsPerBatch);
      schema = data.schema();
      icebergSchema = ArrowSchemas.toIceberg(schema);
      dir = Files.createTempDirectory("quiver-parquet-bench");
      writer =
          new DuckDbParquetWriter(512L * 1024 * 1024, Files.createDirectory(dir.resolve("tmp")));
      scanned =
          write(dir.resolve("scanned"), ParquetWriteOptions.DEFAULTS).stream()
              .map(f -> f.path().toUri().toString())
              .toList();
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Writes every batch to new Parquet files; returns the rows written. */
  @Benchmark
  public long write(Throughput counters) throws IOException {
    ParquetWriteOptions options =
        new ParquetWriteOptions(
            ParquetWriteOptions.Compression.ZSTD,
            OptionalInt.of(zstdLevel),
            ParquetWriteOptions.DEFAULT_ROW_GROUP_ROWS,
            ParquetWriteOptions.DEFAULT_TARGET_FILE_BYTES);
    long rows =
        write(dir.resolve("w" + written++), options).stream().mapToLong(WrittenFile::rows).sum();
    if (rows != data.rows()) {
      throw new IllegalStateException("Wrote " + rows + " rows, expected " + data.rows());
    }
    counters.add(rows, data.bytes());
    return rows;
  }

  /** Scans the file written in setup; counts rows and bytes of the Arrow buffers returned. */
  @Benchmark
  public long scan(Throughput counters) throws Exception {
    long rows = 0;
    long bytes = 0;
    try (TableScan scan = new TableScan(root, scanned, schema, null, -1, rowsPerBatch)) {
      VectorSchemaRoot batch = scan.root();
      while (scan.next()) {
        rows += batch.getRowCount();
        for (FieldVector vector : batch.getFieldVectors()) {
          bytes += vector.getBufferSize();
        }
      }
    }
    if (rows != data.rows()) {
      throw new IllegalStateException("Scanned " + rows + " rows, expected " + data.rows());
    }
    counters.add(rows, bytes);
    return rows;
  }

  private List<WrittenFile> write(Path target, ParquetWriteOptions options) throws IOException {
    try (BatchReplayReader source = new BatchReplayReader(root, schema, data.batches())) {
      return writer.write(source, root, schema, icebergSchema, target, options);
    }
  }

  /** Deletes what write() wrote in the iteration, so the disk does not fill. */
  @TearDown(Level.Iteration)
  public void deleteWritten() throws IOException {
    for (int i = 0; i < written; i++) {
      BenchmarkResources.deleteRecursively(dir.resolve("w" + i));
    }
    written = 0;
  }

  /** Closes everything, deletes the folder, then fails if Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BenchmarkResources.closeThenCheckLeaks(
        root, writer, data, () -> BenchmarkResources.deleteRecursively(dir));
  }
}
