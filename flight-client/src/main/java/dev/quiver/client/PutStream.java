package dev.quiver.client;

import com.google.protobuf.Any;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightClient.ClientStreamListener;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;

/**
 * One DoPut: sends batches as fast as the stream accepts them, then waits for the receipt.
 *
 * <p>Readiness is waited for here, with a bounded, backing-off park, because Arrow's own putNext
 * spins on isReady() without pausing when the stream is full.
 */
final class PutStream {
  private static final long FIRST_PAUSE_NANOS = 50_000;
  private static final long LONGEST_PAUSE_NANOS = 5_000_000;

  /** The caller's batches: loads the next one into the root, or says there is none. */
  @FunctionalInterface
  interface BatchSource {
    boolean loadNext() throws Exception;
  }

  private final FlightClient flight;
  private final Duration stallTimeout;
  private final CallOption[] callOptions;

  PutStream(FlightClient flight, Duration stallTimeout, CallOption[] callOptions) {
    this.flight = flight;
    this.stallTimeout = stallTimeout;
    this.callOptions = callOptions.clone();
  }

  /**
   * Streams every batch of {@code source} through {@code root} to {@code table}, put as {@code
   * options} say.
   */
  PutReceipt put(
      TableId table,
      PutOptions options,
      VectorSchemaRoot root,
      DictionaryProvider dictionaries,
      BatchSource source) {
    ReceiptListener listener = new ReceiptListener(table);
    FlightDescriptor descriptor =
        options.needsCommand()
            ? FlightDescriptor.command(Any.pack(options.toCommand(table)).toByteArray())
            : FlightDescriptor.path(table.path());
    ClientStreamListener stream;
    try {
      stream =
          dictionaries == null
              ? flight.startPut(descriptor, root, listener, callOptions)
              : flight.startPut(descriptor, root, dictionaries, listener, callOptions);
    } catch (FlightRuntimeException e) {
      throw QuiverException.fromFlight(e);
    }
    try {
      // Once the call has ended (a server error) there is no point sending more: the receipt
      // wait below reports why it ended.
      while (!listener.isCancelled() && source.loadNext()) {
        if (!awaitReady(table, stream, listener)) {
          break;
        }
        stream.putNext();
      }
      stream.completed();
    } catch (Throwable t) {
      QuiverException failure = asQuiver(table, t);
      cancel(stream, failure);
      throw failure;
    }
    try {
      return listener.await(stallTimeout);
    } catch (QuiverException e) {
      if (e.code() == QuiverErrorCode.TIMED_OUT) {
        cancel(stream, e);
      }
      throw e;
    }
  }

  /** Waits until the stream takes a batch; false when the call ended meanwhile. */
  private boolean awaitReady(TableId table, ClientStreamListener stream, ReceiptListener listener) {
    long deadline = System.nanoTime() + stallTimeout.toNanos();
    long pause = FIRST_PAUSE_NANOS;
    while (!stream.isReady()) {
      if (listener.isCancelled()) {
        return false;
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new QuiverException(
            QuiverErrorCode.CANCELLED, "Interrupted while writing to table %s", table);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new QuiverException(
            QuiverErrorCode.TIMED_OUT,
            "The server accepted no data for table %s for %s",
            table,
            stallTimeout);
      }
      LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, LONGEST_PAUSE_NANOS);
    }
    return true;
  }

  private static QuiverException asQuiver(TableId table, Throwable t) {
    if (t instanceof QuiverException quiver) {
      return quiver;
    }
    if (t instanceof FlightRuntimeException flight) {
      return QuiverException.fromFlight(flight);
    }
    return new QuiverException(
        QuiverErrorCode.INTERNAL, t, "Cannot send the batches for table %s: %s", table, t);
  }

  /** Cancels the call so the server commits nothing; the original failure is what matters. */
  private static void cancel(ClientStreamListener stream, QuiverException failure) {
    try {
      stream.error(failure.toFlight());
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }
}
