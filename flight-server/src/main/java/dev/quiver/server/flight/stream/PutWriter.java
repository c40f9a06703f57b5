package dev.quiver.server.flight.stream;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.config.LimitSettings;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.telemetry.CallTrace;
import java.util.EnumSet;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The one write path of an upload (DoPut, Flight SQL bulk ingest and prepared updates): the
 * stream's limits, a call allocator of its own, and the query limit checked as each batch arrives.
 *
 * <p>The call's allocator is capped only at memory.total, because a cap hit inside the C Data
 * export to DuckDB leaks the half-exported batch (Arrow Java 18.3; see {@link
 * MemoryGovernor#newNativeCallAllocator}); the query limit is checked per batch instead, counting
 * the batch (its buffers stay accounted to Flight's allocator) and what the call allocated.
 */
public final class PutWriter {
  private final MemoryGovernor memory;
  private final LimitSettings limits;

  public PutWriter(MemoryGovernor memory, LimitSettings limits) {
    this.memory = memory;
    this.limits = limits;
  }

  /**
   * How a put's rows reach the table: an append, or a replace of its rows. The write runs {@code
   * beforeCommit} just before it commits (the table store's hook), so a cancelled call commits
   * nothing.
   */
  @FunctionalInterface
  public interface Write<T> {
    T write(FlightStreamReader reader, BufferAllocator allocator, Runnable beforeCommit)
        throws Exception;
  }

  /**
   * Moves {@code stream} into a table with {@code write}, under a call allocator of its own with
   * the query limit checked as each batch arrives; {@code call}'s trace records admission and the
   * bytes received. Blocks until the stream ends and {@code write} returns.
   *
   * <p>A client that cancels or disconnects stops the write at once: the stream's next batch fails
   * with Flight's CANCELLED, each batch also checks {@code call}, and so does {@code beforeCommit};
   * a cancelled call commits nothing.
   */
  public <T> T write(String name, QuiverCall call, FlightStream stream, Write<T> write)
      throws Exception {
    Runnable notCancelled = notCancelled(name, call);
    if (!call.upload().awaitSchema()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "%s: the stream ended before its schema", name);
    }
    int columns = stream.getSchema().getFields().size();
    if (columns > limits.maxColumns()) {
      throw new QuiverException(
          QuiverErrorCode.LIMIT_EXCEEDED,
          "%s: the stream's schema has %d columns, more than limits.max-columns (%d)",
          name,
          columns,
          limits.maxColumns());
    }
    long[] batches = {0};
    CallTrace trace = call.trace();
    try (BufferAllocator allocator =
            call.admit(name, EnumSet.of(QuiverCall.Need.NATIVE_MEMORY)).allocator();
        FlightStreamReader reader =
            new FlightStreamReader(
                allocator,
                stream,
                batchBytes -> {
                  if (++batches[0] > limits.maxPutBatches()) {
                    throw new QuiverException(
                        QuiverErrorCode.LIMIT_EXCEEDED,
                        "%s sent more than limits.max-put-batches (%d) record batches",
                        name,
                        limits.maxPutBatches());
                  }
                  notCancelled.run();
                  trace.received(batchBytes);
                  memory.checkPacedLimit(name, allocator.getAllocatedMemory() + batchBytes);
                })) {
      return write.write(reader, allocator, notCancelled);
    }
  }

  /** A check that throws CANCELLED once the client of {@code call} has cancelled or gone. */
  public static Runnable notCancelled(String name, QuiverCall call) {
    return () -> {
      if (call.isCancelled()) {
        throw new QuiverException(
            QuiverErrorCode.CANCELLED,
            "%s: the client cancelled the call; nothing committed",
            name);
      }
    };
  }

  /** Sends one PutResult carrying {@code metadata}. */
  public void reply(StreamListener<PutResult> ack, byte[] metadata) {
    // A few hundred bytes, sent at once: taken straight from the budget rather than through
    // admission, so a put that has committed never queues behind other calls to say so.
    ArrowBuf buffer = memory.root().buffer(metadata.length);
    try (PutResult result = PutResult.metadata(buffer)) {
      buffer.writeBytes(metadata);
      ack.onNext(result);
    }
  }
}
