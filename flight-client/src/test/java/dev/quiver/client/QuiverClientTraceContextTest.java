package dev.quiver.client;

import static dev.quiver.client.TestRows.expected;
import static dev.quiver.client.TestRows.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The SDK sends the caller's current OpenTelemetry context, and nothing without one. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(60)
class QuiverClientTraceContextTest {
  private static final TableId EVENTS = TableId.of("web", "events");
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN_ID = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + SPAN_ID + "-01";

  private FakeQuiverServer server;
  private QuiverClient client;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    server = FakeQuiverServer.start(allocator, 3);
    client =
        QuiverClient.connect(
            server.location(), ClientOptions.builder().parentAllocator(allocator).build());
  }

  @AfterEach
  void stop() throws Exception {
    AutoCloseables.close(client, server);
  }

  private static Scope callerSpan() {
    SpanContext caller =
        SpanContext.create(TRACE_ID, SPAN_ID, TraceFlags.getSampled(), TraceState.getDefault());
    return Span.wrap(caller).makeCurrent();
  }

  @Test
  void everyCallCarriesTheCallersTraceparent(BufferAllocator allocator) throws Exception {
    try (Scope ignored = callerSpan()) {
      try (ArrowReader batches = TestRows.reader(allocator, 3, 10)) {
        client.put(EVENTS, batches);
      }
      // Parallel readers start their calls on their own threads.
      try (ArrowReader scan = client.scan(EVENTS, ScanOptions.builder().parallelism(3).build())) {
        assertThat(read(scan)).containsExactlyInAnyOrderElementsOf(expected(0, 30));
      }
      client.listTables();
    }
    // DoPut, GetFlightInfo, three DoGets, ListFlights.
    assertThat(server.traceparents()).hasSize(6).containsOnly(TRACEPARENT);
  }

  @Test
  void withoutACurrentSpanNothingIsSent(BufferAllocator allocator) throws Exception {
    try (ArrowReader batches = TestRows.reader(allocator, 1, 10)) {
      client.put(EVENTS, batches);
    }
    client.listTables();
    assertThat(server.traceparents()).hasSize(2).containsOnly("(none)");
  }
}
