package dev.quiver.server.flight;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.proto.v1.ScanTicket;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.ScanShares;
import dev.quiver.server.table.TableScan;
import dev.quiver.server.telemetry.CallTrace;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.apache.arrow.flight.BackpressureStrategy;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.DataFile;

/**
 * DoGet: streams one ticket's share of a pinned snapshot.
 *
 * <p>The work runs on the server's stream executor, not on the gRPC call thread: gRPC delivers the
 * listener's onReady signal on that thread, so blocking it would starve the very signal the stream
 * waits for. The stream sends a batch only when the client is ready, waiting without spinning, and
 * gives up on a client that stays not ready past the stall timeout. The call's memory comes from
 * its own child allocator, closed on every path; the query limit is checked after each batch (see
 * {@link MemoryGovernor#newNativeCallAllocator}).
 */
final class DoGetHandler {
  private final IcebergTableStore store;
  private final MemoryGovernor memory;
  private final ScanBatchSizer batchSizer;
  private final ExecutorService executor;
  private final long stallTimeoutMillis;

  DoGetHandler(
      IcebergTableStore store,
      MemoryGovernor memory,
      ScanBatchSizer batchSizer,
      ExecutorService executor,
      long stallTimeoutMillis) {
    this.store = store;
    this.memory = memory;
    this.batchSizer = batchSizer;
    this.executor = executor;
    this.stallTimeoutMillis = stallTimeoutMillis;
  }

  void getStream(Ticket ticket, ServerStreamListener listener, CallTrace trace) {
    ScanTicket parsed = parse(ticket);
    ScanRequest request = ScanRequest.of(parsed);
    BackpressureStrategy backpressure = new BackpressureStrategy.CallbackBackpressureStrategy();
    backpressure.register(listener);
    try {
      executor.execute(trace.wrap(() -> stream(parsed, request, listener, backpressure, trace)));
    } catch (RejectedExecutionException e) {
      throw new QuiverException(QuiverErrorCode.UNAVAILABLE, "The server is shutting down");
    }
  }

  private void stream(
      ScanTicket ticket,
      ScanRequest request,
      ServerStreamListener listener,
      BackpressureStrategy backpressure,
      CallTrace trace) {
    String call = "DoGet " + request.table();
    trace.table(request.table());
    trace.snapshot(ticket.getSnapshotId());
    try (BufferAllocator allocator = trace.admit(() -> memory.newNativeCallAllocator(call))) {
      ScanPlan plan = ScanPlan.plan(store, request);
      List<DataFile> share =
          ScanShares.share(plan.files(), ticket.getShareIndex(), ticket.getShareCount());
      try (TableScan scan =
          new TableScan(
              allocator,
              ScanPlan.uris(share),
              plan.schema(),
              plan.substraitFilter(),
              request.limit(),
              batchSizer.batchRows())) {
        listener.start(scan.root(), scan.dictionaries());
        while (scan.next()) {
          memory.checkQueryLimit(call, allocator);
          if (!awaitReady(listener, backpressure, call, trace)) {
            return;
          }
          listener.putNext();
          trace.sent(scan.root().getRowCount(), CallTrace.bytesOf(scan.root()));
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

  private static ScanTicket parse(Ticket ticket) {
    ScanTicket parsed;
    try {
      parsed = ScanTicket.parseFrom(ticket.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_TICKET, "The ticket is not a Quiver ticket");
    }
    if (!parsed.hasTable()
        || parsed.getShareCount() < 1
        || parsed.getShareIndex() < 0
        || parsed.getShareIndex() >= parsed.getShareCount()
        || parsed.getSnapshotId() < 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_TICKET, "The ticket is not a valid Quiver ticket");
    }
    return parsed;
  }
}
