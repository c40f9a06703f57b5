package dev.quiver.server.flight;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.telemetry.CallTrace;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.apache.arrow.flight.BackpressureStrategy;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;

/**
 * The one DoGet streaming loop, shared by table scans and SQL results: admission, a child allocator
 * per call, backpressure, the stall timeout and the per-batch query-limit check.
 *
 * <p>The work runs on the server's stream executor, not on the gRPC call thread: gRPC delivers the
 * listener's onReady signal on that thread, so blocking it would starve the very signal the stream
 * waits for. The stream sends a batch only when the client is ready, waiting without spinning, and
 * gives up on a client that stays not ready past the stall timeout. The call's memory comes from
 * its own child allocator, closed on every path (after the source); the query limit is checked
 * after each batch (see {@link MemoryGovernor#newNativeCallAllocator}).
 */
final class BatchStreamer {
  /** Batches to send: a root refilled by each {@link #next()}. Used by one thread. */
  interface Source extends AutoCloseable {
    VectorSchemaRoot root();

    DictionaryProvider dictionaries();

    /** Loads the next batch into {@link #root()}; false at the end. */
    boolean next() throws Exception;
  }

  /** Loads a source's next batch; false at the end. */
  interface Loader {
    boolean next() throws Exception;
  }

  /**
   * A source over a scan or query that has a root, dictionaries and a next(); closes {@code owner}.
   */
  static Source source(
      Supplier<VectorSchemaRoot> root,
      Supplier<DictionaryProvider> dictionaries,
      Loader loader,
      AutoCloseable owner) {
    return new Source() {
      @Override
      public VectorSchemaRoot root() {
        return root.get();
      }

      @Override
      public DictionaryProvider dictionaries() {
        return dictionaries.get();
      }

      @Override
      public boolean next() throws Exception {
        return loader.next();
      }

      @Override
      public void close() throws Exception {
        owner.close();
      }
    };
  }

  /** Opens the source once the call has its allocator, on the stream executor. */
  interface Opener {
    Source open(BufferAllocator allocator) throws Exception;
  }

  private final MemoryGovernor memory;
  private final ExecutorService executor;
  private final long stallTimeoutMillis;

  BatchStreamer(MemoryGovernor memory, ExecutorService executor, long stallTimeoutMillis) {
    this.memory = memory;
    this.executor = executor;
    this.stallTimeoutMillis = stallTimeoutMillis;
  }

  /**
   * Streams what {@code opener} opens to {@code listener}, on the executor; returns at once. {@code
   * onCancel} runs (on a gRPC thread) when the client cancels the call, so work that does not wait
   * on the listener (a query computing its first batch) can be stopped too. {@code onDone} runs
   * once the stream has ended, however it ended. {@code trace} records admission, batches sent,
   * stalls and the outcome on the call's span and metrics.
   *
   * @throws QuiverException UNAVAILABLE when the server is shutting down
   */
  void stream(
      String call,
      CallTrace trace,
      ServerStreamListener listener,
      Opener opener,
      Runnable onCancel,
      Runnable onDone) {
    BackpressureStrategy backpressure =
        new BackpressureStrategy.CallbackBackpressureStrategy() {
          @Override
          protected void cancelCallback() {
            super.cancelCallback();
            onCancel.run();
          }
        };
    backpressure.register(listener);
    try {
      executor.execute(
          trace.wrap(
              () -> {
                try {
                  run(call, trace, listener, opener, backpressure);
                } finally {
                  onDone.run();
                }
              }));
    } catch (RejectedExecutionException e) {
      onDone.run();
      throw new QuiverException(QuiverErrorCode.UNAVAILABLE, "The server is shutting down");
    }
  }

  private void run(
      String call,
      CallTrace trace,
      ServerStreamListener listener,
      Opener opener,
      BackpressureStrategy backpressure) {
    try (BufferAllocator allocator = trace.admit(() -> memory.newNativeCallAllocator(call))) {
      try (Source source = opener.open(allocator)) {
        listener.start(source.root(), source.dictionaries());
        while (source.next()) {
          memory.checkQueryLimit(call, allocator);
          if (!awaitReady(listener, backpressure, call, trace)) {
            return;
          }
          listener.putNext();
          trace.sent(source.root().getRowCount(), CallTrace.bytesOf(source.root()));
        }
        listener.completed();
      }
    } catch (Throwable t) {
      // Admission refusals and limit overruns land here too; the allocator is closed by now, so
      // the error goes out after the call's memory is back.
      if (!listener.isCancelled()) {
        listener.error(trace.failed(FlightErrors.toFlight(call, t, memory)));
      }
    }
  }

  private boolean awaitReady(
      ServerStreamListener listener,
      BackpressureStrategy backpressure,
      String call,
      CallTrace trace) {
    boolean stalled = !listener.isReady();
    long waitStart = System.nanoTime();
    BackpressureStrategy.WaitResult result = backpressure.waitForListener(stallTimeoutMillis);
    if (stalled) {
      trace.stalled(System.nanoTime() - waitStart);
    }
    switch (result) {
      case READY:
        return true;
      case CANCELLED:
        return false;
      case TIMEOUT:
        listener.error(
            new QuiverException(
                    QuiverErrorCode.TIMED_OUT,
                    "%s: the client read nothing for %d ms (flight.stall-timeout); cancelled",
                    call,
                    stallTimeoutMillis)
                .toFlight());
        return false;
      default:
        listener.error(
            new QuiverException(QuiverErrorCode.CANCELLED, "%s was interrupted", call).toFlight());
        return false;
    }
  }
}
