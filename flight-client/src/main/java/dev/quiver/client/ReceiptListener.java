package dev.quiver.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.memory.ArrowBuf;

/**
 * Collects the one PutResult of a DoPut and the call's end, for {@link QuiverClient#put}.
 *
 * <p>gRPC calls it on its own threads. The receipt bytes are copied out of the PutResult (which
 * Arrow closes after the callback), so no Arrow buffer outlives the call.
 */
final class ReceiptListener implements FlightClient.PutListener {
  private final TableId table;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile byte[] receipt;

  ReceiptListener(TableId table) {
    this.table = table;
  }

  @Override
  public void onNext(PutResult result) {
    // Arrow closes the PutResult when this returns, so the bytes are copied out now.
    ArrowBuf metadata = result.getApplicationMetadata();
    if (receipt == null && metadata != null) {
      byte[] bytes = new byte[(int) metadata.readableBytes()];
      metadata.getBytes(metadata.readerIndex(), bytes);
      receipt = bytes;
    }
  }

  @Override
  public void onError(Throwable t) {
    done.completeExceptionally(t);
  }

  @Override
  public void onCompleted() {
    done.complete(null);
  }

  /** Whether the call has ended, so sending more is pointless; Arrow's putNext polls this too. */
  @Override
  public boolean isCancelled() {
    return done.isDone();
  }

  @Override
  public void getResult() {
    await(null);
  }

  /**
   * Waits for the call to end and returns the receipt; {@code timeout} null waits without bound.
   *
   * @throws QuiverException with the server's code when the put failed, TIMED_OUT after the
   *     timeout, INTERNAL when the server sent no receipt
   */
  PutReceipt await(Duration timeout) {
    try {
      if (timeout == null) {
        done.get();
      } else {
        done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof FlightRuntimeException flight) {
        throw QuiverException.fromFlight(flight);
      }
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, cause, "The put to %s failed: %s", table, cause);
    } catch (TimeoutException e) {
      throw new QuiverException(
          QuiverErrorCode.TIMED_OUT,
          "The server did not confirm the put to %s within %s",
          table,
          timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, e, "Interrupted while waiting for the put to %s", table);
    }
    byte[] bytes = receipt;
    if (bytes == null) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, "The server sent no receipt for the put to %s", table);
    }
    return PutReceipt.fromJson(bytes);
  }
}
