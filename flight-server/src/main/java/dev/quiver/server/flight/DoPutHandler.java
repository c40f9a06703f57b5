package dev.quiver.server.flight;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.config.LimitSettings;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.telemetry.CallTrace;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * DoPut: appends the uploaded stream to the table its path names, committing once, atomically, when
 * the client finishes; replies with one PutResult carrying the {@link PutReceipt} JSON.
 *
 * <p>Runs on Flight's executor (blocking is fine there). The stream is pulled batch by batch by the
 * Parquet writer, so the server reads only as fast as it writes. A stream that fails or is
 * cancelled commits nothing. The query limit is checked as each batch arrives, counting the batch
 * (its buffers stay accounted to Flight's allocator) and what the call allocated; the call's
 * allocator is capped only at memory.total, because a cap hit inside the C Data export to DuckDB
 * leaks the half-exported batch (Arrow Java 18.3; see {@link
 * MemoryGovernor#newNativeCallAllocator}).
 */
final class DoPutHandler {
  private final IcebergTableStore store;
  private final MemoryGovernor memory;
  private final LimitSettings limits;

  DoPutHandler(IcebergTableStore store, MemoryGovernor memory, LimitSettings limits) {
    this.store = store;
    this.memory = memory;
    this.limits = limits;
  }

  Runnable acceptPut(FlightStream stream, StreamListener<PutResult> ack, CallTrace trace) {
    return () -> {
      String call = "DoPut";
      try {
        TableId table = tableOf(stream.getDescriptor());
        call = "DoPut " + table;
        trace.table(table);
        PutReceipt receipt =
            write(
                call, trace, stream, (reader, allocator) -> store.append(table, reader, allocator));
        trace.committed(receipt);
        reply(call, ack, receipt.toJson());
        ack.onCompleted();
      } catch (Throwable t) {
        ack.onError(trace.failed(FlightErrors.toFlight(call, t, memory)));
      }
    };
  }

  /** How a put's rows reach the table: an append, or a replace of its rows. */
  interface Write {
    PutReceipt write(FlightStreamReader reader, BufferAllocator allocator) throws Exception;
  }

  /**
   * Moves {@code stream} into a table with {@code write}, under a call allocator of its own with
   * the query limit checked as each batch arrives; the one write path of DoPut and Flight SQL bulk
   * ingest. {@code trace} records admission and the bytes received.
   */
  PutReceipt write(String call, CallTrace trace, FlightStream stream, Write write)
      throws Exception {
    if (!MalformedMessages.awaitSchema()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "%s: the stream ended before its schema", call);
    }
    int columns = stream.getSchema().getFields().size();
    if (columns > limits.maxColumns()) {
      throw new QuiverException(
          QuiverErrorCode.LIMIT_EXCEEDED,
          "%s: the stream's schema has %d columns, more than limits.max-columns (%d)",
          call,
          columns,
          limits.maxColumns());
    }
    long[] batches = {0};
    try (BufferAllocator allocator = trace.admit(() -> memory.newNativeCallAllocator(call));
        FlightStreamReader reader =
            new FlightStreamReader(
                allocator,
                stream,
                batchBytes -> {
                  if (++batches[0] > limits.maxPutBatches()) {
                    throw new QuiverException(
                        QuiverErrorCode.LIMIT_EXCEEDED,
                        "%s sent more than limits.max-put-batches (%d) record batches",
                        call,
                        limits.maxPutBatches());
                  }
                  trace.received(batchBytes);
                  memory.checkQueryLimit(call, allocator.getAllocatedMemory() + batchBytes);
                })) {
      return write.write(reader, allocator);
    }
  }

  /** Sends one PutResult carrying {@code metadata}. */
  void reply(String call, StreamListener<PutResult> ack, byte[] metadata) {
    // A few hundred bytes, sent at once: taken straight from the budget rather than through
    // admission, so a put that has committed never queues behind other calls to say so.
    ArrowBuf buffer = memory.root().buffer(metadata.length);
    try (PutResult result = PutResult.metadata(buffer)) {
      buffer.writeBytes(metadata);
      ack.onNext(result);
    }
  }

  private static TableId tableOf(FlightDescriptor descriptor) {
    if (descriptor.isCommand()) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "DoPut takes a path descriptor [namespace, table]; commands are not supported yet");
    }
    return TableId.fromPath(descriptor.getPath());
  }
}
