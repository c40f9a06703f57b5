package dev.quiver.benchmarks;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.ExecutorService;
import org.apache.arrow.flight.BackpressureStrategy;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * A Flight producer that serves the same pre-built batches for every DoGet ticket and drains every
 * DoPut, so that a benchmark measures the transport alone.
 *
 * <p>DoGet streams on {@code streams}, not on the gRPC call thread, and sends a batch only when the
 * client is ready, as Quiver's DoGetHandler does: a blocking getStream would never see the onReady
 * callbacks (see shared/notes/stack-spike.md).
 */
final class ReplayProducer extends NoOpFlightProducer {
  private static final long STALL_MILLIS = 30_000;

  private final BufferAllocator allocator;
  private final BenchmarkData data;
  private final ExecutorService streams;
  private final boolean zeroCopy;

  ReplayProducer(
      BufferAllocator allocator, BenchmarkData data, ExecutorService streams, boolean zeroCopy) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    this.data = requireNonNull(data, "data is null");
    this.streams = requireNonNull(streams, "streams is null");
    this.zeroCopy = zeroCopy;
  }

  @Override
  public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
    BackpressureStrategy backpressure = new BackpressureStrategy.CallbackBackpressureStrategy();
    backpressure.register(listener);
    streams.execute(() -> stream(listener, backpressure));
  }

  private void stream(ServerStreamListener listener, BackpressureStrategy backpressure) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(data.schema(), allocator)) {
      VectorLoader loader = new VectorLoader(root);
      // Safe here: each load replaces the root's buffers, and the batches outlive the stream.
      listener.setUseZeroCopy(zeroCopy);
      listener.start(root);
      for (ArrowRecordBatch batch : data.batches()) {
        BackpressureStrategy.WaitResult ready = backpressure.waitForListener(STALL_MILLIS);
        if (ready == BackpressureStrategy.WaitResult.CANCELLED) {
          return;
        }
        if (ready != BackpressureStrategy.WaitResult.READY) {
          listener.error(
              CallStatus.TIMED_OUT
                  .withDescription("Client not ready within " + STALL_MILLIS + " ms: " + ready)
                  .toRuntimeException());
          return;
        }
        loader.load(batch);
        listener.putNext();
      }
      listener.completed();
    } catch (RuntimeException e) {
      listener.error(e);
    }
  }

  @Override
  public Runnable acceptPut(
      CallContext context, FlightStream flightStream, StreamListener<PutResult> ackStream) {
    return () -> {
      // Drain only: the benchmark measures the transport, so the rows go nowhere.
      while (flightStream.next()) {
        // Each next() has already received and loaded one batch.
      }
      ackStream.onCompleted();
    };
  }
}
