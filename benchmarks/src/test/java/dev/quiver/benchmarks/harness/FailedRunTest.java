package dev.quiver.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A run whose one stream fails while another still holds batches. */
@ExtendWith(ArrowAllocatorExtension.class)
class FailedRunTest {
  private static final int HOLDERS = 7;

  /**
   * The first {@link #HOLDERS} DoGets send batches until the client cancels them; the next fails
   * after a batch.
   */
  private static final class OneFails extends NoOpFlightProducer {
    private final BufferAllocator allocator;
    private final AtomicInteger calls = new AtomicInteger();
    private final CountDownLatch cancelled = new CountDownLatch(HOLDERS);

    OneFails(BufferAllocator allocator) {
      this.allocator = allocator;
    }

    @Override
    public void listActions(
        CallContext context, StreamListener<org.apache.arrow.flight.ActionType> l) {
      l.onCompleted();
    }

    @Override
    public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
      boolean first = calls.getAndIncrement() < HOLDERS;
      try (BigIntVector ids = new BigIntVector("id", allocator);
          VectorSchemaRoot root = VectorSchemaRoot.of(ids)) {
        ids.allocateNew(4096);
        ids.setValueCount(4096);
        root.setRowCount(4096);
        listener.start(root);
        // 64 batches of 32 KB: more than the client reads ahead, so it holds some when cancelled.
        for (int i = 0; i < (first ? 64 : 1) && !listener.isCancelled(); i++) {
          listener.putNext();
        }
        if (first) {
          long deadline = System.nanoTime() + 60_000_000_000L;
          while (!listener.isCancelled() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
          }
          if (listener.isCancelled()) {
            cancelled.countDown();
          }
          listener.completed();
        } else {
          listener.error(
              CallStatus.INTERNAL.withDescription("this stream fails").toRuntimeException());
        }
      }
    }
  }

  @Test
  void aFailedStreamStopsTheOthersBeforeTheClientMemoryIsClosed(BufferAllocator allocator)
      throws Exception {
    OneFails producer;
    try (BufferAllocator serverMemory = allocator.newChildAllocator("server", 0, Long.MAX_VALUE);
        FlightServer server =
            FlightServer.builder(
                    serverMemory,
                    Location.forGrpcInsecure("127.0.0.1", 0),
                    producer = new OneFails(serverMemory))
                .build()
                .start()) {
      BenchOptions options =
          BenchOptions.parse(
              List.of(
                  "--uri",
                  "grpc://127.0.0.1:" + server.getPort(),
                  "--mode",
                  "get",
                  "--ticket",
                  "any",
                  "--no-load",
                  "--streams",
                  String.valueOf(HOLDERS + 1),
                  "--threads",
                  String.valueOf(HOLDERS + 1),
                  "--warmup",
                  "0",
                  "--runs",
                  "1",
                  "--no-progress"));
      try (BufferAllocator client = allocator.newChildAllocator("client", 0, Long.MAX_VALUE)) {
        assertThatThrownBy(() -> QuiverBench.measure(options, client, null))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> {
                  assertThat(e.status().code()).isEqualTo(FlightStatusCode.INTERNAL);
                  // Closing the harness's allocator with a stream still open would add a leak.
                  assertThat(e.getSuppressed()).isEmpty();
                })
            .hasMessageContaining("this stream fails");
        assertThat(client.getAllocatedMemory()).isZero();
      }
      // The other streams were cancelled, not left to run until the server gives up on them.
      assertThat(producer.cancelled.await(20, TimeUnit.SECONDS)).isTrue();
    }
  }
}
