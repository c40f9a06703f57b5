package dev.quiver.client;

import static dev.quiver.client.Filters.and;
import static dev.quiver.client.Filters.gt;
import static dev.quiver.client.Filters.isNotNull;
import static dev.quiver.client.TestRows.awaitTrue;
import static dev.quiver.client.TestRows.expected;
import static dev.quiver.client.TestRows.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.testing.ArrowAllocatorExtension;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(60)
class QuiverClientScanTest {
  private static final int SHARES = 4;
  private static final TableId EVENTS = TableId.of("web", "events");
  private static final TableId ENDLESS = TableId.of("web", "endless");
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN_ID = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + SPAN_ID + "-01";

  private FakeQuiverServer server;
  private QuiverClient client;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    server = FakeQuiverServer.start(allocator, SHARES);
    server.producer().addEndlessTable(ENDLESS, 1024);
    client =
        QuiverClient.connect(
            server.location(), ClientOptions.builder().parentAllocator(allocator).build());
  }

  @AfterEach
  void stop() throws Exception {
    AutoCloseables.close(client, server);
  }

  /** Puts {@code batches} batches of ten rows, one batch per put call's reader. */
  private void putBatches(BufferAllocator allocator, int batches) throws Exception {
    try (ArrowReader reader = TestRows.reader(allocator, batches, 10)) {
      client.put(EVENTS, reader);
    }
  }

  @Test
  void sequentialScanReadsEveryEndpointInTheServersOrder(BufferAllocator allocator)
      throws Exception {
    putBatches(allocator, 10);

    // The fake deals batch i to endpoint i % SHARES; endpoints are read in order.
    List<String> inEndpointOrder = new ArrayList<>();
    for (int share = 0; share < SHARES; share++) {
      for (int batch = share; batch < 10; batch += SHARES) {
        inEndpointOrder.addAll(expected(batch * 10L, batch * 10L + 10));
      }
    }
    try (ArrowReader scan = client.scan(EVENTS)) {
      assertThat(read(scan)).containsExactlyElementsOf(inEndpointOrder);
    }
    assertThat(server.producer().completedStreams()).isEqualTo(SHARES);
  }

  @Test
  void parallelScanReturnsEveryRow(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 50);

    for (int parallelism : new int[] {2, SHARES, 16}) {
      try (ArrowReader scan =
          client.scan(EVENTS, ScanOptions.builder().parallelism(parallelism).build())) {
        assertThat(read(scan))
            .as("parallelism %d", parallelism)
            .containsExactlyInAnyOrderElementsOf(expected(0, 500));
        assertThat(scan.loadNextBatch()).isFalse();
      }
    }
    assertThat(server.producer().completedStreams()).isEqualTo(3 * SHARES);
  }

  @Test
  void scanOfAnEmptyTableReturnsTheSchemaAndNoRows(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 0);

    for (int parallelism : new int[] {1, 3}) {
      try (ArrowReader scan =
          client.scan(EVENTS, ScanOptions.builder().parallelism(parallelism).build())) {
        assertThat(scan.getVectorSchemaRoot().getSchema()).isEqualTo(TestRows.SCHEMA);
        assertThat(read(scan)).isEmpty();
      }
    }
  }

  @Test
  void scanWithDefaultOptionsUsesThePathDescriptor(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 1);

    try (ArrowReader scan = client.scan(EVENTS, ScanOptions.builder().parallelism(2).build())) {
      read(scan);
    }

    assertThat(server.producer().infoRequests())
        .containsExactly(FlightDescriptor.path("web", "events"));
  }

  @Test
  void scanWithOptionsSendsAScanCommand(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 3);
    ScanOptions options =
        ScanOptions.builder()
            .columns("name")
            .filter(and(gt("id", 10), isNotNull("name")))
            .limit(5)
            .build();

    List<String> names;
    try (ArrowReader scan = client.scan(EVENTS, options)) {
      assertThat(scan.getVectorSchemaRoot().getSchema().getFields())
          .extracting(field -> field.getName())
          .containsExactly("name");
      names = read(scan);
    }

    FlightDescriptor sent = server.producer().infoRequests().get(0);
    assertThat(sent.isCommand()).isTrue();
    assertThat(Any.parseFrom(sent.getCommand()).unpack(ScanCommand.class))
        .isEqualTo(options.toCommand(EVENTS));
    // The fake projects columns but leaves filter and limit to the real server.
    assertThat(names).hasSize(30).allMatch(name -> name.startsWith("row-"));
  }

  @Test
  void closingASequentialReaderMidwayCancelsTheServerStream() throws Exception {
    try (ArrowReader scan = client.scan(ENDLESS)) {
      for (int i = 0; i < 3; i++) {
        assertThat(scan.loadNextBatch()).isTrue();
      }
      assertThat(scan.getVectorSchemaRoot().getRowCount()).isEqualTo(1024);
    }

    FakeQuiverProducer producer = server.producer();
    awaitTrue(() -> producer.cancelledStreams() == 1, WAIT, "the server stream to be cancelled");
    assertThat(producer.startedStreams()).isEqualTo(1);
    assertThat(producer.completedStreams()).isZero();
  }

  @Test
  void closingAParallelReaderMidwayCancelsEveryServerStream() throws Exception {
    try (ArrowReader scan = client.scan(ENDLESS, ScanOptions.builder().parallelism(3).build())) {
      for (int i = 0; i < 10; i++) {
        assertThat(scan.loadNextBatch()).isTrue();
      }
    }

    FakeQuiverProducer producer = server.producer();
    assertThat(producer.startedStreams()).isBetween(1, 3);
    awaitTrue(
        () -> producer.cancelledStreams() == producer.startedStreams(),
        WAIT,
        "every server stream to be cancelled");
    assertThat(producer.completedStreams()).isZero();
  }

  @Test
  void closingAReaderBeforeLoadingOpensNoStream() throws Exception {
    for (int parallelism : new int[] {1, 3}) {
      try (ArrowReader scan =
          client.scan(ENDLESS, ScanOptions.builder().parallelism(parallelism).build())) {
        assertThat(scan.getVectorSchemaRoot().getSchema())
            .isEqualTo(FakeQuiverProducer.ENDLESS_SCHEMA);
      }
    }

    assertThat(server.producer().startedStreams()).isZero();
  }

  @Test
  void streamFailureSurfacesWithTheServersCode(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 4);

    for (int parallelism : new int[] {1, 3}) {
      ArrowReader scan =
          client.scan(EVENTS, ScanOptions.builder().parallelism(parallelism).build());
      try (scan) {
        // Planned, then dropped: every ticket now names a missing table.
        client.dropTable(EVENTS);
        assertThatThrownBy(scan::loadNextBatch)
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
            .hasMessage("Table web.events does not exist");
        // A failed reader keeps failing rather than pretending the scan ended.
        assertThatThrownBy(scan::loadNextBatch)
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
            .hasMessage("Table web.events does not exist");
      }
      putBatches(allocator, 4);
    }
  }

  @Test
  void parallelReaderStopsPullingWhileTheCallerDoesNot(BufferAllocator allocator) throws Exception {
    FakeQuiverProducer producer = server.producer();
    try (ArrowReader scan = client.scan(ENDLESS, ScanOptions.builder().parallelism(3).build())) {
      assertThat(scan.loadNextBatch()).isTrue();

      // The caller stops loading: the bounded hand-off fills, the workers stop reading, gRPC flow
      // control fills, and every server stream ends up waiting. An unbounded hand-off never would.
      awaitTrue(
          () -> producer.streamsBlockedFor(Duration.ofMillis(300)) == 3,
          WAIT,
          "all three server streams to be held back");
      // Hand-off, one pending batch per worker and gRPC's windows: a few MB at most.
      assertThat(allocator.getAllocatedMemory()).isLessThan(32L << 20);
      assertThat(scan.loadNextBatch()).isTrue();
    }
    awaitTrue(() -> producer.cancelledStreams() == 3, WAIT, "the streams to be cancelled");
  }

  private static Scope callerSpan() {
    SpanContext caller =
        SpanContext.create(TRACE_ID, SPAN_ID, TraceFlags.getSampled(), TraceState.getDefault());
    return Span.wrap(caller).makeCurrent();
  }

  @Test
  @SuppressWarnings("try") // the scope is only made current
  void everyCallCarriesTheCallersTraceparent(BufferAllocator allocator) throws Exception {
    try (Scope ignored = callerSpan()) {
      putBatches(allocator, 3);
      // Parallel readers start their calls on their own threads.
      try (ArrowReader scan =
          client.scan(EVENTS, ScanOptions.builder().parallelism(SHARES).build())) {
        assertThat(read(scan)).containsExactlyInAnyOrderElementsOf(expected(0, 30));
      }
      client.listTables();
    }
    // DoPut, GetFlightInfo, a DoGet per share, ListFlights.
    assertThat(server.traceparents()).hasSize(3 + SHARES).containsOnly(TRACEPARENT);
  }

  @Test
  void withoutACurrentSpanNothingIsSent(BufferAllocator allocator) throws Exception {
    putBatches(allocator, 1);
    client.listTables();
    assertThat(server.traceparents()).hasSize(2).containsOnly("(none)");
  }
}
