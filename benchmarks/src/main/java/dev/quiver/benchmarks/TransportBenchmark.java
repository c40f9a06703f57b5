package dev.quiver.benchmarks;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.AsyncPutListener;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightClient.ClientStreamListener;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
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
 * Flight DoGet and DoPut throughput of one in-memory producer hosted on Arrow's FlightServer
 * (grpc-netty) or on a grpc-netty-shaded server through FlightGrpcUtils, read and written by
 * Arrow's FlightClient (grpc-netty) on loopback.
 *
 * <p>Each DoGet operation reads the whole stream ({@code batches} x {@code rowsPerBatch} rows of
 * four int64 columns); each DoPut operation writes it. The server replays pre-built batches and
 * drains puts, so the figures are the transport's: gRPC, Netty and Arrow IPC framing. Client and
 * server share one JVM and the machine's cores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(2)
public class TransportBenchmark {
  private static final FlightDescriptor PUT_PATH = FlightDescriptor.path("bench", "put");

  /** grpc-netty (Arrow's FlightServer) or grpc-netty-shaded (FlightGrpcUtils). */
  @Param({"grpc-netty", "grpc-netty-shaded"})
  public String transport;

  /**
   * Whether DoGet hands the batches' buffers to gRPC without copying them
   * (ServerStreamListener.setUseZeroCopy).
   */
  @Param("false")
  public boolean zeroCopy;

  /** Batches per stream. */
  @Param("64")
  public int batches;

  /** Rows per batch. */
  @Param("65536")
  public int rowsPerBatch;

  private BufferAllocator root;
  private BufferAllocator dataAllocator;
  private BufferAllocator serverAllocator;
  private BufferAllocator clientAllocator;
  private BenchmarkData data;
  private ExecutorService executor;
  private FlightTransport.Server server;
  private FlightClient client;

  /** Builds the batches, starts the server and connects the client. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    root = new RootAllocator(Long.MAX_VALUE);
    try {
      dataAllocator = root.newChildAllocator("data", 0, Long.MAX_VALUE);
      data = BenchmarkData.build(dataAllocator, BenchmarkData.Shape.INT64X4, batches, rowsPerBatch);
      executor = Executors.newCachedThreadPool();
      serverAllocator = root.newChildAllocator("server", 0, Long.MAX_VALUE);
      server =
          FlightTransport.fromName(transport)
              .start(
                  serverAllocator,
                  new ReplayProducer(serverAllocator, data, executor, zeroCopy),
                  executor);
      clientAllocator = root.newChildAllocator("client", 0, Long.MAX_VALUE);
      client =
          FlightClient.builder(
                  clientAllocator, Location.forGrpcInsecure(FlightTransport.HOST, server.port()))
              .build();
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Reads the whole stream; fails if a row is missing. */
  @Benchmark
  @SuppressWarnings("try") // FlightStream.close() may throw InterruptedException: JMH reports it.
  public long doGet(Throughput counters) throws Exception {
    long rows = 0;
    try (FlightStream stream = client.getStream(new Ticket(new byte[] {0}))) {
      while (stream.next()) {
        rows += stream.getRoot().getRowCount();
      }
    }
    expectAllRows(rows);
    counters.add(rows, data.bytes());
    return rows;
  }

  /** Writes the whole stream, waiting for the server to finish reading it. */
  @Benchmark
  public void doPut(Throughput counters) throws Exception {
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(data.schema(), clientAllocator)) {
      VectorLoader loader = new VectorLoader(batch);
      AsyncPutListener ack = new AsyncPutListener();
      ClientStreamListener put = client.startPut(PUT_PATH, batch, ack);
      for (ArrowRecordBatch next : data.batches()) {
        loader.load(next);
        PutReadiness.await(put);
        put.putNext();
      }
      put.completed();
      put.getResult();
    }
    counters.add(data.rows(), data.bytes());
  }

  private void expectAllRows(long rows) {
    if (rows != data.rows()) {
      throw new IllegalStateException("Read " + rows + " rows, expected " + data.rows());
    }
  }

  /** Closes client, server, executor and data, then fails if any Arrow memory leaked. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    try {
      AutoCloseables.close(
          client,
          clientAllocator,
          server,
          executor == null ? null : executor::shutdownNow,
          serverAllocator,
          data,
          dataAllocator);
      if (executor != null && !executor.awaitTermination(5, TimeUnit.SECONDS)) {
        throw new IllegalStateException("Stream threads still running 5 s after shutdown");
      }
      if (root == null) {
        return;
      }
      if (root.getAllocatedMemory() != 0) {
        throw new IllegalStateException("Arrow memory leaked:\n" + root.toVerboseString());
      }
    } finally {
      if (root != null) {
        root.close();
      }
    }
  }
}
