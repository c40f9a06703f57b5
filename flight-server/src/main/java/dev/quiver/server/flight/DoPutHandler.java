package dev.quiver.server.flight;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.TableId;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.flight.stream.PutWriter;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.PutChanges;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.telemetry.CallTrace;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;

/**
 * DoPut: puts the uploaded stream into the table a path descriptor names (an append) or a
 * PutCommand names (append, overwrite or upsert, {@link PutChanges}), committing once, atomically,
 * when the client finishes; replies with one PutResult carrying the {@link PutReceipt} JSON.
 *
 * <p>Runs on Flight's executor (blocking is fine there). The stream is pulled batch by batch by the
 * Parquet writer, so the server reads only as fast as it writes. A stream that fails or is
 * cancelled commits nothing. Memory and limits are {@link PutWriter}'s.
 */
final class DoPutHandler {
  private final IcebergTableStore store;
  private final MemoryGovernor memory;
  private final PutWriter writer;
  private final PutChanges changes;

  DoPutHandler(
      IcebergTableStore store, MemoryGovernor memory, PutWriter writer, PutChanges changes) {
    this.store = store;
    this.memory = memory;
    this.writer = writer;
    this.changes = changes;
  }

  Runnable acceptPut(FlightStream stream, StreamListener<PutResult> ack, QuiverCall call) {
    CallTrace trace = call.trace();
    return () -> {
      String name = "DoPut";
      try {
        PutRequest put = PutRequest.of(stream.getDescriptor());
        TableId table = put.table();
        name = "DoPut " + table;
        trace.table(table);
        PutReceipt receipt =
            writer.write(
                name,
                call,
                stream,
                // beforeCommit is the call's cancellation check: rewrites also run it per batch.
                (reader, allocator, beforeCommit) -> {
                  if (put.addColumns()) {
                    store.addMissingColumns(table, reader);
                  }
                  return switch (put.mode()) {
                    case PUT_MODE_OVERWRITE ->
                        changes.overwrite(
                            table, put.filter(), reader, allocator, beforeCommit, beforeCommit);
                    case PUT_MODE_UPSERT ->
                        changes.upsert(
                            table, put.keyColumns(), reader, allocator, beforeCommit, beforeCommit);
                    default -> store.append(table, reader, allocator, beforeCommit);
                  };
                });
        trace.committed(receipt);
        writer.reply(ack, receipt.toJson());
        ack.onCompleted();
      } catch (Throwable t) {
        ack.onError(trace.failed(FlightErrors.toFlight(name, t, memory)));
      }
    };
  }
}
