package dev.quiver.server.flight.stream;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.telemetry.CallTrace;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.apache.arrow.flight.BackpressureStrategy;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one DoGet streaming loop, shared by table scans and SQL results: admission, a child allocator
 * per call, backpressure, the stall timeout, a wait for room before each batch and the per-batch
 * query-limit check.
 *
 * <p>The work runs on the server's stream executor, not on the gRPC call thread: gRPC delivers the
 * listener's onReady signal on that thread, so blocking it would starve the very signal the stream
 * waits for. The stream sends a batch only when the client is ready, waiting without spinning, and
 * gives up on a client that stays not ready past the stall timeout. The call's memory comes from
 * its own child allocator, closed on every path (after the source); the query limit is checked
 * after each batch (see {@link MemoryGovernor#newNativeCallAllocator}). Before it takes each batch
 * the stream waits for the server to have room ({@link MemoryGovernor#awaitRoom}), holding no batch
 * of its own meanwhile: an admitted stream slows down, rather than fails, when others take memory.
 */
public final class BatchStreamer {
  private static final Logger LOG = LoggerFactory.getLogger(BatchStreamer.class);

  /** The most sent batches gRPC may hold while the next one is loaded and sent. */
  static final int MAX_IN_FLIGHT = 2;

  /** Batches to send: a root refilled by each {@link #next()}. Used by one thread. */
  public interface Source extends AutoCloseable {
    VectorSchemaRoot root();

    DictionaryProvider dictionaries();

    /** Loads the next batch into {@link #root()}; false at the end. */
    boolean next() throws Exception;
  }

  /** Loads a source's next batch; false at the end. */
  public interface Loader {
    boolean next() throws Exception;
  }

  /**
   * A source over a scan or query that has a root, dictionaries and a next(); closes {@code owner}.
   */
  public static Source source(
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
  public interface Opener {
    /**
     * Opens the source in what the call was admitted with: batches go in its allocator, queries run
     * in its SQL turn (both closed by the streamer once the source is).
     */
    Source open(QuiverCall.Admitted admitted) throws Exception;
  }

  private final MemoryGovernor memory;
  private final ExecutorService executor;
  private final long stallTimeoutMillis;

  public BatchStreamer(MemoryGovernor memory, ExecutorService executor, long stallTimeoutMillis) {
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
  public void stream(
      String name,
      QuiverCall call,
      Set<QuiverCall.Need> needs,
      ServerStreamListener listener,
      Opener opener,
      Runnable onCancel,
      Runnable onDone) {
    CallTrace trace = call.trace();
    BackpressureStrategy backpressure =
        new BackpressureStrategy.CallbackBackpressureStrategy() {
          @Override
          protected void cancelCallback() {
            super.cancelCallback();
            onCancel.run();
            memory.admission().wake(); // a call still waiting to be admitted stops waiting
            memory.wakeRoomWaiters(); // and one waiting for room for its next batch
          }
        };
    backpressure.register(listener);
    try {
      executor.execute(
          trace.wrap(
              () -> {
                try {
                  run(name, call, needs, listener, opener, backpressure);
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
      QuiverCall quiverCall,
      Set<QuiverCall.Need> needs,
      ServerStreamListener listener,
      Opener opener,
      BackpressureStrategy backpressure) {
    CallTrace trace = quiverCall.trace();
    QuiverCall.Admitted admitted;
    try {
      admitted = quiverCall.admit(call, needs);
    } catch (Throwable t) {
      fail(call, trace, listener, t);
      return;
    }
    BufferAllocator allocator = admitted.allocator();
    Throwable failure = null;
    boolean clientGone = false;
    SentBatches sent = new SentBatches();
    try (Source source = opener.open(admitted)) {
      // Netty writes the batch buffers themselves, no copy: each source loads every batch into
      // fresh buffers (imports, transfers or new allocations), never into ones still in flight.
      listener.setUseZeroCopy(true);
      listener.start(source.root(), source.dictionaries());
      while (true) {
        if (!awaitRoom(call, source, listener)) {
          clientGone = true;
          break;
        }
        if (!source.next()) {
          break;
        }
        if (!awaitWritten(sent, trace)) {
          listener.error(stalled(call));
          clientGone = true;
          break;
        }
        // The batch is taken: only the call's own limit may stop it now (the room came before).
        memory.checkPacedLimit(call, allocator.getAllocatedMemory());
        if (!awaitReady(listener, backpressure, call, trace)) {
          clientGone = true;
          break;
        }
        listener.putNext();
        sent.add(source.root());
        trace.sent(source.root().getRowCount(), CallTrace.bytesOf(source.root()));
      }
      if (!clientGone) {
        listener.completed();
      }
    } catch (Throwable t) {
      failure = t;
    }
    try {
      admitted.closeTurn(); // the source is closed: its queries have given back DuckDB's memory
      release(call, allocator, clientGone);
    } catch (Throwable t) {
      if (failure == null) {
        failure = t;
      } else {
        failure.addSuppressed(t);
      }
    }
    if (failure != null) {
      // Admission refusals and limit overruns land here too. The error goes out once the call's
      // memory is back, unless gRPC still holds batches a slow client has yet to read.
      fail(call, trace, listener, failure);
    }
  }

  private void fail(String call, CallTrace trace, ServerStreamListener listener, Throwable t) {
    if (!listener.isCancelled()) {
      listener.error(trace.failed(FlightErrors.toFlight(call, t, memory)));
    }
  }

  /**
   * Closes the call's allocator once gRPC has let go of the batches it still holds (zero-copy:
   * until Netty has written them to the socket, or dropped them with a reset stream). A client that
   * is reading gets them within the stall timeout, and the allocator closes here, empty. Otherwise
   * (the client stopped reading or was given up on) the governor closes it when the last buffer is
   * released, and counts those bytes until then: they are still in memory.
   */
  private void release(String call, BufferAllocator allocator, boolean clientGone) {
    boolean released = false;
    try {
      released = !clientGone && memory.awaitAtMost(allocator, 0, stallTimeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (released) {
      allocator.close();
      return;
    }
    LOG.debug(
        "{}: {} bytes of sent batches are still with gRPC; the call's memory closes when they go",
        call,
        allocator.getAllocatedMemory());
    memory.closeWhenReleased(allocator);
  }

  /**
   * Waits until the server has room for the next batch ({@link MemoryGovernor#awaitRoom}); false
   * when the client cancelled meanwhile. The batch sent last is let go first: gRPC holds its own
   * references to what it has still to write, so the call waits holding nothing it could give back,
   * and calls waiting together never wait for one another.
   */
  private boolean awaitRoom(String call, Source source, ServerStreamListener listener) {
    if (memory.hasRoom()) {
      return true;
    }
    source.root().clear();
    memory.awaitRoom(call, listener::isCancelled); // counted in the memory report's room_waits
    return !listener.isCancelled();
  }

  /**
   * Waits, at most the stall timeout, until gRPC holds at most {@link #MAX_IN_FLIGHT} of the
   * batches sent so far; false if it did not. gRPC reports the stream ready again before Netty has
   * written (and let go of) what it was given, so readiness alone lets sent batches pile up in the
   * call's memory.
   */
  private boolean awaitWritten(SentBatches sent, CallTrace trace) throws InterruptedException {
    if (sent.inFlight() <= MAX_IN_FLIGHT) {
      return true;
    }
    long waitStart = System.nanoTime();
    boolean written =
        memory.awaitRelease(() -> sent.inFlight() <= MAX_IN_FLIGHT, stallTimeoutMillis);
    trace.stalled(System.nanoTime() - waitStart); // backpressure too: the client is behind
    return written;
  }

  private FlightRuntimeException stalled(String call) {
    return new QuiverException(
            QuiverErrorCode.TIMED_OUT,
            "%s: the client read nothing for %d ms (flight.stall-timeout); cancelled",
            call,
            stallTimeoutMillis)
        .toFlight();
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
        listener.error(stalled(call));
        return false;
      default:
        listener.error(
            new QuiverException(QuiverErrorCode.CANCELLED, "%s was interrupted", call).toFlight());
        return false;
    }
  }
}
