package dev.quiver.benchmarks;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
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
 * Arrow IPC stream encoding and decoding of record batches in memory, without a network: what
 * Flight's framing costs on each side before gRPC sees the bytes.
 *
 * <p>encode writes {@code batches} x {@code rowsPerBatch} rows of {@code shape} as an IPC stream
 * into a sink that discards the bytes; decode reads the same stream, encoded once in setup, from a
 * byte array into a root, batch by batch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class IpcBenchmark {
  /** int64x4 or mixed. */
  @Param({"int64x4", "mixed"})
  public String shape;

  /** Batches per stream. */
  @Param("16")
  public int batches;

  /** Rows per batch. */
  @Param("65536")
  public int rowsPerBatch;

  private BufferAllocator root;
  private BenchmarkData data;
  private byte[] encoded;

  /** Builds the batches and encodes them once for decode. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      data = BenchmarkData.build(root, BenchmarkData.Shape.fromName(shape), batches, rowsPerBatch);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      write(out);
      encoded = out.toByteArray();
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Encodes every batch as an IPC stream; returns the bytes written. */
  @Benchmark
  public long encode(Throughput counters) throws IOException {
    CountingSink sink = new CountingSink();
    write(sink);
    counters.add(data.rows(), data.bytes());
    return sink.count;
  }

  /** Decodes the IPC stream into a root, batch by batch; returns the rows read. */
  @Benchmark
  public long decode(Throughput counters) throws IOException {
    long rows = 0;
    try (ArrowStreamReader reader =
        new ArrowStreamReader(new ByteArrayInputStream(encoded), root)) {
      VectorSchemaRoot batch = reader.getVectorSchemaRoot();
      while (reader.loadNextBatch()) {
        rows += batch.getRowCount();
      }
    }
    if (rows != data.rows()) {
      throw new IllegalStateException("Decoded " + rows + " rows, expected " + data.rows());
    }
    counters.add(rows, data.bytes());
    return rows;
  }

  private void write(OutputStream out) throws IOException {
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(data.schema(), root);
        ArrowStreamWriter writer = new ArrowStreamWriter(batch, null, Channels.newChannel(out))) {
      VectorLoader loader = new VectorLoader(batch);
      writer.start();
      for (ArrowRecordBatch next : data.batches()) {
        loader.load(next);
        writer.writeBatch();
      }
      writer.end();
    }
  }

  /** Closes the data, then fails if Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    BenchmarkResources.closeThenCheckLeaks(root, data);
  }

  /** Counts the bytes written and drops them. */
  private static final class CountingSink extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
