package dev.quiver.client;

import io.opentelemetry.context.Context;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Reads up to {@code workers} endpoints at once on its own threads and hands their batches to the
 * caller's thread through a bounded queue.
 *
 * <p>Memory stays bounded: each worker holds at most one batch it could not hand off yet, the queue
 * holds at most {@code workers}, and gRPC flow control bounds what each open stream buffers.
 * Batches of one endpoint keep their order; across endpoints the order is not defined. Closing the
 * reader cancels every open stream, frees every queued batch and waits (bounded) for the workers.
 */
final class ParallelScanReader extends ScanReader {
  private static final Duration WORKER_SHUTDOWN = Duration.ofSeconds(30);
  private static final long DRAIN_POLL_MILLIS = 10;

  /** What a worker hands to the reader: a batch, a failure, or its end. */
  private sealed interface Item permits Batch, Failure, Finished {}

  private record Batch(ArrowRecordBatch batch) implements Item {}

  private record Failure(Throwable cause) implements Item {}

  private record Finished() implements Item {}

  private final int workers;
  private final BlockingQueue<Item> handOff;
  private final AtomicInteger nextEndpoint = new AtomicInteger();
  private final Set<FlightStream> openStreams = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;
  private ExecutorService pool;
  // The caller's OpenTelemetry context when it asked for the scan; the workers start their calls
  // in it, so those calls join the caller's trace.
  private final Context callerContext = Context.current();
  private int finishedWorkers;
  private QuiverException failure;

  ParallelScanReader(
      BufferAllocator allocator,
      EndpointClients clients,
      TableId table,
      Schema schema,
      List<FlightEndpoint> endpoints,
      CallOption[] callOptions,
      TokenRenewal tokens,
      int parallelism) {
    super(allocator, clients, table, schema, endpoints, callOptions, tokens);
    this.workers = Math.max(1, Math.min(parallelism, endpoints.size()));
    this.handOff = new ArrayBlockingQueue<>(workers);
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    if (failure != null) {
      throw failure;
    }
    if (endpointCount() == 0) {
      return false;
    }
    startWorkers();
    try {
      while (finishedWorkers < workers) {
        Item item = handOff.take();
        if (item instanceof Batch batch) {
          load(batch.batch());
          return true;
        } else if (item instanceof Failure failed) {
          failure = translate(failed.cause());
          throw failure;
        } else {
          finishedWorkers++;
        }
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, e, "Interrupted while reading the scan of %s", table());
    }
  }

  private void startWorkers() {
    if (pool != null) {
      return;
    }
    AtomicInteger threads = new AtomicInteger();
    pool =
        Executors.newFixedThreadPool(
            workers,
            runnable -> {
              Thread thread =
                  new Thread(runnable, "quiver-scan-" + table() + "-" + threads.incrementAndGet());
              // A reader the caller forgot to close must not keep the JVM alive.
              thread.setDaemon(true);
              return thread;
            });
    for (int i = 0; i < workers; i++) {
      pool.execute(callerContext.wrap((Runnable) this::readEndpoints));
    }
    pool.shutdown();
  }

  /** One worker: takes endpoints until none are left, handing each batch off. */
  private void readEndpoints() {
    try {
      int index;
      while (!closing && (index = nextEndpoint.getAndIncrement()) < endpointCount()) {
        if (!readEndpoint(index)) {
          return;
        }
      }
    } catch (Throwable t) {
      if (!closing) {
        handOff(new Failure(t));
      }
    } finally {
      handOff(new Finished());
    }
  }

  /** Streams one endpoint into the hand-off; false when the reader is closing. */
  private boolean readEndpoint(int index) throws Exception {
    FlightStream stream = open(index);
    openStreams.add(stream);
    try {
      // Re-check after registering: close() may have swept the set just before.
      while (!closing && stream.next()) {
        if (!handOff(new Batch(new VectorUnloader(stream.getRoot()).getRecordBatch()))) {
          return false;
        }
      }
      return !closing;
    } finally {
      openStreams.remove(stream);
      stream.close();
    }
  }

  /**
   * Puts an item in the queue, blocking while it is full; false (and the item freed) when the
   * reader is closing, since nobody will take it then.
   */
  private boolean handOff(Item item) {
    try {
      while (!closing) {
        if (handOff.offer(item, DRAIN_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    free(item);
    return false;
  }

  @Override
  void closeStreams() throws Exception {
    closing = true;
    List<AutoCloseable> cancels = new ArrayList<>();
    for (FlightStream stream : openStreams) {
      // Cancel only: the worker that owns the stream drains and closes it.
      cancels.add(() -> stream.cancel("Scan reader closed", null));
    }
    AutoCloseables.close(cancels);
    if (pool != null) {
      long deadline = System.nanoTime() + WORKER_SHUTDOWN.toNanos();
      while (!pool.awaitTermination(DRAIN_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        drain();
        if (System.nanoTime() > deadline) {
          throw new QuiverException(
              QuiverErrorCode.INTERNAL,
              "Scan workers of %s did not stop within %s of closing the reader",
              table(),
              WORKER_SHUTDOWN);
        }
      }
    }
    drain();
  }

  private void drain() {
    Item item;
    while ((item = handOff.poll()) != null) {
      free(item);
    }
  }

  private static void free(Item item) {
    if (item instanceof Batch batch) {
      batch.batch().close();
    }
  }
}
