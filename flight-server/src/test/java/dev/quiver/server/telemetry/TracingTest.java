package dev.quiver.server.telemetry;

import static dev.quiver.server.telemetry.TelemetryFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.Test;

/** One span per Flight call, with rpc.* and quiver.* attributes and the call's outcome. */
class TracingTest extends TelemetryServerTest {
  @Override
  Map<String, String> serverFlags() {
    // Small scan batches, so a DoGet of a big table is a long stream.
    return Map.of("scan.batch-rows", "1024");
  }

  private static final TableId ORDERS = TableId.of("sales", "orders");
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  private static final String CALLER_SPAN_ID = "b7ad6b7169203331";

  private List<SpanData> spans(String method, int count) {
    await(
        () -> named(method).size() >= count,
        count + " " + method + " spans in " + fixture.spans.getFinishedSpanItems());
    return named(method);
  }

  private List<SpanData> named(String method) {
    return fixture.spans.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals("arrow.flight.protocol.FlightService/" + method))
        .toList();
  }

  private static Scope callerSpan() {
    return Span.wrap(
            SpanContext.create(
                TRACE_ID, CALLER_SPAN_ID, TraceFlags.getSampled(), TraceState.getDefault()))
        .makeCurrent();
  }

  @Test
  void putAndScanContinueTheCallersTraceWithOneSpanPerCall(BufferAllocator allocator)
      throws Exception {
    PutReceipt receipt;
    long read;
    try (Scope ignored = callerSpan()) {
      receipt = fixture.put(allocator, ORDERS, 3, 1000);
      read = fixture.scanCount(ORDERS);
    }
    assertThat(read).isEqualTo(3000);

    SpanData put = spans("DoPut", 1).get(0);
    SpanData info = spans("GetFlightInfo", 1).get(0);
    SpanData get = spans("DoGet", 1).get(0);
    for (SpanData span : List.of(put, info, get)) {
      assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
      assertThat(span.getTraceId()).as("trace of %s", span.getName()).isEqualTo(TRACE_ID);
      assertThat(span.getParentSpanId()).isEqualTo(CALLER_SPAN_ID);
      assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.OK);
      assertThat(span.getAttributes().get(AttributeKey.stringKey("rpc.system"))).isEqualTo("grpc");
      assertThat(span.getAttributes().get(AttributeKey.stringKey("rpc.service")))
          .isEqualTo("arrow.flight.protocol.FlightService");
      assertThat(span.getAttributes().get(CallTrace.GRPC_STATUS)).isZero();
    }
    assertThat(put.getAttributes().get(AttributeKey.stringKey("rpc.method"))).isEqualTo("DoPut");
    assertThat(put.getAttributes().get(CallTrace.TABLE)).isEqualTo("sales.orders");
    assertThat(put.getAttributes().get(CallTrace.ROWS)).isEqualTo(3000);
    assertThat(put.getAttributes().get(CallTrace.BATCHES)).isEqualTo(3);
    assertThat(put.getAttributes().get(CallTrace.BYTES)).isGreaterThanOrEqualTo(3 * 1000 * 8);
    assertThat(put.getAttributes().get(CallTrace.SNAPSHOT_ID)).isEqualTo(receipt.snapshotId());
    assertThat(put.getAttributes().get(CallTrace.PEAK_MEMORY)).isPositive();
    assertThat(put.getAttributes().get(CallTrace.ADMISSION_WAIT)).isNotNull();
    assertThat(put.getEvents()).extracting(EventData::getName).contains("commit");

    assertThat(get.getAttributes().get(AttributeKey.stringKey("rpc.method"))).isEqualTo("DoGet");
    assertThat(get.getAttributes().get(CallTrace.TABLE)).isEqualTo("sales.orders");
    assertThat(get.getAttributes().get(CallTrace.SNAPSHOT_ID)).isEqualTo(receipt.snapshotId());
    assertThat(get.getAttributes().get(CallTrace.ROWS)).isEqualTo(3000);
    assertThat(get.getAttributes().get(CallTrace.BATCHES)).isGreaterThanOrEqualTo(3);
    assertThat(get.getAttributes().get(CallTrace.BYTES)).isGreaterThanOrEqualTo(3000 * 8);
    assertThat(get.getAttributes().get(CallTrace.PEAK_MEMORY)).isPositive();
  }

  @Test
  void aSqlQueryStreamIsTracedWithItsRows(BufferAllocator allocator) throws Exception {
    fixture.put(allocator, ORDERS, 3, 1000);
    long rows = 0;
    try (FlightClient flight = FlightClient.builder(allocator, fixture.server.location()).build()) {
      FlightInfo info =
          flight.getInfo(
              FlightDescriptor.command(
                  "SELECT * FROM sales.orders".getBytes(StandardCharsets.UTF_8)));
      try (FlightStream stream = flight.getStream(info.getEndpoints().get(0).getTicket())) {
        while (stream.next()) {
          rows += stream.getRoot().getRowCount();
        }
      }
    }
    assertThat(rows).isEqualTo(3000);

    SpanData get = spans("DoGet", 1).get(0);
    assertThat(get.getStatus().getStatusCode()).isEqualTo(StatusCode.OK);
    assertThat(get.getAttributes().get(CallTrace.ROWS)).isEqualTo(3000);
    assertThat(get.getAttributes().get(CallTrace.BATCHES)).isPositive();
    assertThat(get.getAttributes().get(CallTrace.PEAK_MEMORY)).isPositive();
  }

  @Test
  void aCallWithoutTraceparentStartsItsOwnTrace(BufferAllocator allocator) throws Exception {
    fixture.client.listTables();
    SpanData list = spans("ListFlights", 1).get(0);
    assertThat(list.getTraceId()).isNotEqualTo(TRACE_ID);
    assertThat(list.getParentSpanContext().isValid()).isFalse();
    assertThat(list.getStatus().getStatusCode()).isEqualTo(StatusCode.OK);
  }

  @Test
  void aFailedCallEndsItsSpanWithErrorAndTheStatus() {
    assertThatThrownBy(() -> fixture.client.scan(TableId.of("sales", "missing")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.TABLE_NOT_FOUND))
        .hasMessageContaining("sales.missing");

    SpanData info = spans("GetFlightInfo", 1).get(0);
    assertThat(info.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(info.getStatus().getDescription()).startsWith("NOT_FOUND").contains("sales.missing");
    assertThat(info.getAttributes().get(CallTrace.GRPC_STATUS)).isEqualTo(5);
  }

  @Test
  void aCancelledStreamEndsItsSpanAsCancelled(BufferAllocator allocator) throws Exception {
    // 4M rows in 1024-row batches (32 MB): far more than gRPC buffers before the client reads.
    fixture.put(allocator, ORDERS, 40, 100_000);
    try (ArrowReader reader = fixture.client.scan(ORDERS)) {
      assertThat(reader.loadNextBatch()).isTrue();
    } // closing the reader mid-stream cancels the DoGet

    SpanData get = spans("DoGet", 1).get(0);
    assertThat(get.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(get.getAttributes().get(CallTrace.GRPC_STATUS)).isEqualTo(1);
    assertThat(get.getEvents()).extracting(EventData::getName).contains("cancelled");
    assertThat(get.getAttributes().get(CallTrace.ROWS)).isLessThan(4_000_000);
    // The server's stream stops and releases its memory.
    await(() -> fixture.server.memory().allocated() == 0, "the cancelled stream's memory");
  }
}
