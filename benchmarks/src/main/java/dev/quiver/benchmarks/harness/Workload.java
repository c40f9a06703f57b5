package dev.quiver.benchmarks.harness;

import static java.util.Objects.requireNonNull;

import dev.quiver.benchmarks.BenchmarkData;
import dev.quiver.benchmarks.PutReadiness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.apache.arrow.flight.AsyncPutListener;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightClient.ClientStreamListener;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * Runs the options' streams against a server: DoPut of pre-built batches, DoGet of a table's
 * endpoints (or a given ticket), or a Flight SQL query.
 *
 * <p>The batches a put sends are built once, before any timing, from a fixed seed: a pool of at
 * most {@link #POOL_BATCHES} distinct full batches sent in turn, plus one batch of the remainder,
 * so a 10-million-row stream costs no more memory than 16 batches. Streams run on {@code threads}
 * threads at once; a run's time is the wall time of all its streams.
 */
final class Workload implements AutoCloseable {
  static final int POOL_BATCHES = 16;

  /** How long a failed run waits for its other streams to stop. */
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private final BenchOptions options;
  private final BenchClient client;
  private final BufferAllocator allocator;
  private final BenchmarkData pool;
  private final BenchmarkData remainder;
  private final ExecutorService threads;
  // --endpoints parallel: the reads of one stream's endpoints, all at once.
  private final ExecutorService endpointReads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "quiver-bench-endpoint");
            t.setDaemon(true);
            return t;
          });
  private final AtomicLong rowsDone = new AtomicLong();
  // The DoGet streams open right now, so a failed run can stop the others before it returns.
  private final Set<FlightStream> open = ConcurrentHashMap.newKeySet();

  Workload(BenchOptions options, BenchClient client, BufferAllocator allocator) {
    this.options = requireNonNull(options, "options is null");
    this.client = requireNonNull(client, "client is null");
    this.allocator = requireNonNull(allocator, "allocator is null");
    long full = options.recordsPerStream() / options.recordsPerBatch();
    int rest = (int) (options.recordsPerStream() % options.recordsPerBatch());
    BenchmarkData built = null;
    try {
      built =
          full == 0
              ? null
              : BenchmarkData.build(
                  allocator,
                  options.shape(),
                  (int) Math.min(full, POOL_BATCHES),
                  options.recordsPerBatch());
      this.remainder = rest == 0 ? null : BenchmarkData.build(allocator, options.shape(), 1, rest);
    } catch (RuntimeException e) {
      if (built != null) {
        built.close();
      }
      throw e;
    }
    this.pool = built;
    this.threads = Executors.newFixedThreadPool(options.threads());
  }

  /** Rows moved so far by the current run, for the progress bar. */
  long rowsDone() {
    return rowsDone.get();
  }

  /** Get and sql modes: puts the table they read, replacing it where the server can drop it. */
  void load() throws Exception {
    client.dropTable(options.path());
    put(FlightDescriptor.path(options.path().toArray(String[]::new)), new Counter());
  }

  /**
   * One run: every stream, {@code threads} at a time.
   *
   * @param run the run's number, which names the tables a put run writes
   */
  RunResult run(int run) throws Exception {
    rowsDone.set(0);
    List<Counter> counters = new ArrayList<>();
    List<Future<?>> futures = new ArrayList<>();
    // Streams report as they end, so a failure is seen at once, not after the streams before it.
    CompletionService<Void> ended = new ExecutorCompletionService<>(threads);
    long start = System.nanoTime();
    for (int s = 0; s < options.streams(); s++) {
      Counter counter = new Counter();
      counters.add(counter);
      List<String> target = putPath(run, s);
      futures.add(ended.submit(() -> stream(target, counter)));
    }
    try {
      for (int i = 0; i < futures.size(); i++) {
        ended.take().get();
      }
    } catch (ExecutionException e) {
      stopAll(futures);
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long rows = 0;
    long bytes = 0;
    long batches = 0;
    List<long[]> latencies = new ArrayList<>();
    for (Counter c : counters) {
      rows += c.rows;
      bytes += c.bytes;
      batches += c.batches;
      latencies.add(Arrays.copyOf(c.latencies, c.batches));
    }
    long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    if (all.length == 0) {
      throw new IllegalStateException("The run moved no batches: is the table empty?");
    }
    return new RunResult(seconds, rows, bytes, batches, RunResult.Latency.of(all));
  }

  /**
   * After one stream failed: cancels the other streams and waits until each has closed what it
   * read, so that no stream still holds client memory when the caller closes the allocator.
   */
  private void stopAll(List<Future<?>> futures) throws InterruptedException {
    for (FlightStream stream : open) {
      stream.cancel("Another stream of the run failed", null);
    }
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    for (Future<?> future : futures) {
      try {
        future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | CancellationException ended) {
        // Ended, one way or another: all that matters here is that it ended.
      } catch (TimeoutException stuck) {
        future.cancel(true);
      }
    }
  }

  /** After a put run: drops the tables it wrote, where the server can (untimed). */
  void cleanUp(int run) {
    if (options.mode() == BenchOptions.Mode.PUT) {
      for (int s = 0; s < options.streams(); s++) {
        client.dropTable(putPath(run, s));
      }
    }
  }

  private List<String> putPath(int run, int stream) {
    List<String> path = new ArrayList<>(options.path());
    int last = path.size() - 1;
    path.set(last, path.get(last) + "_" + run + "_" + stream);
    return path;
  }

  private Void stream(List<String> putPath, Counter counter) throws Exception {
    switch (options.mode()) {
      case PUT -> put(FlightDescriptor.path(putPath.toArray(String[]::new)), counter);
      case GET -> get(counter);
      case SQL -> sql(counter);
    }
    return null;
  }

  private void put(FlightDescriptor descriptor, Counter counter) throws Exception {
    try (VectorSchemaRoot root =
        VectorSchemaRoot.create(BenchmarkData.schema(options.shape()), allocator)) {
      VectorLoader loader = new VectorLoader(root);
      AsyncPutListener ack =
          new AsyncPutListener() {
            @Override
            public void onNext(PutResult val) {
              // The receipt is not needed; Arrow closes the PutResult after this returns.
            }
          };
      ClientStreamListener put = client.flight().startPut(descriptor, root, ack, client.options());
      long full = options.recordsPerStream() / options.recordsPerBatch();
      try {
        for (long b = 0; b < full; b++) {
          send(put, root, loader, pool.batches().get((int) (b % pool.batches().size())), counter);
        }
        if (remainder != null) {
          send(put, root, loader, remainder.batches().get(0), counter);
        }
        put.completed();
      } catch (RuntimeException e) {
        put.error(e);
        throw e;
      }
      put.getResult();
    }
  }

  private void send(
      ClientStreamListener put,
      VectorSchemaRoot root,
      VectorLoader loader,
      ArrowRecordBatch batch,
      Counter counter) {
    loader.load(batch);
    long start = System.nanoTime();
    PutReadiness.await(put);
    put.putNext();
    counter.add(System.nanoTime() - start, root);
    rowsDone.addAndGet(root.getRowCount());
  }

  private void get(Counter counter) throws Exception {
    if (options.ticket().isPresent()) {
      read(
          client.flight().getStream(new Ticket(options.ticket().get()), client.options()), counter);
      return;
    }
    FlightInfo info =
        client
            .flight()
            .getInfo(
                FlightDescriptor.path(options.path().toArray(String[]::new)), client.options());
    readEndpoints(
        info,
        (flight, endpoint) -> flight.getStream(endpoint.getTicket(), client.options()),
        counter);
  }

  private void sql(Counter counter) throws Exception {
    FlightInfo info =
        new FlightSqlClient(client.flight()).execute(options.query(), client.options());
    readEndpoints(
        info,
        (flight, endpoint) ->
            new FlightSqlClient(flight).getStream(endpoint.getTicket(), client.options()),
        counter);
  }

  /**
   * Reads every endpoint of {@code info} with {@code opener}: one after another from the server
   * asked, or with {@code --endpoints parallel} all at once, each from its location, into counters
   * merged in endpoint order.
   */
  private void readEndpoints(
      FlightInfo info,
      BiFunction<FlightClient, FlightEndpoint, FlightStream> opener,
      Counter counter)
      throws Exception {
    if (options.endpoints() == BenchOptions.Endpoints.SEQUENTIAL) {
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        read(opener.apply(client.flight(), endpoint), counter);
      }
      return;
    }
    List<Future<Counter>> parts = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      parts.add(
          endpointReads.submit(
              () -> {
                Counter part = new Counter();
                read(opener.apply(client.at(endpoint), endpoint), part);
                return part;
              }));
    }
    Exception failure = null;
    for (Future<Counter> part : parts) {
      try {
        counter.merge(part.get());
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof Exception cause ? cause : e;
          open.forEach(stream -> stream.cancel("Another endpoint of the stream failed", null));
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void read(FlightStream stream, Counter counter) throws Exception {
    open.add(stream);
    try (stream) {
      long start = System.nanoTime();
      while (stream.next()) {
        VectorSchemaRoot root = stream.getRoot();
        counter.add(System.nanoTime() - start, root);
        rowsDone.addAndGet(root.getRowCount());
        start = System.nanoTime();
      }
    } finally {
      open.remove(stream);
    }
  }

  @Override
  public void close() throws Exception {
    threads.shutdownNow();
    endpointReads.shutdownNow();
    AutoCloseables.close(pool, remainder);
  }

  /** One stream's counts; written by the one thread running the stream. */
  private static final class Counter {
    long rows;
    long bytes;
    int batches;
    long[] latencies = new long[64];

    /** Adds {@code other}'s counts, its latencies after these. */
    void merge(Counter other) {
      if (batches + other.batches > latencies.length) {
        latencies = Arrays.copyOf(latencies, batches + other.batches);
      }
      System.arraycopy(other.latencies, 0, latencies, batches, other.batches);
      batches += other.batches;
      rows += other.rows;
      bytes += other.bytes;
    }

    void add(long nanos, VectorSchemaRoot root) {
      if (batches == latencies.length) {
        latencies = Arrays.copyOf(latencies, batches * 2);
      }
      latencies[batches++] = nanos;
      rows += root.getRowCount();
      for (FieldVector vector : root.getFieldVectors()) {
        bytes += vector.getBufferSize();
      }
    }
  }
}
