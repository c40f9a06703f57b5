package dev.quiver.server.telemetry;

import static dev.quiver.server.telemetry.TelemetryFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.TableId;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

/**
 * Each call's CPU time and the bytes of the data files it read or wrote reach its span, the metrics
 * (per method, per table) and the status page.
 */
class CallResourcesTest extends TelemetryServerTest {
  private static final TableId ORDERS = TableId.of("sales", "orders");

  @Test
  void putAndScanRecordTheirCpuAndTheBytesOfTheirDataFiles(BufferAllocator allocator)
      throws Exception {
    PutReceipt receipt = fixture.put(allocator, ORDERS, 4, 50_000);
    long files = parquetBytes();
    assertThat(files).isPositive().isEqualTo(receipt.bytes());
    assertThat(fixture.scanCount(ORDERS)).isEqualTo(200_000);
    // DoPut, GetFlightInfo, DoGet.
    await(() -> fixture.spans.getFinishedSpanItems().size() >= 3, "three calls to end");

    SpanData put = span("DoPut");
    assertThat(put.getAttributes().get(CallTrace.WRITTEN_BYTES)).isEqualTo(files);
    assertThat(put.getAttributes().get(CallTrace.READ_BYTES)).isZero();
    assertThat(put.getAttributes().get(CallTrace.CPU)).isPositive();
    SpanData get = span("DoGet");
    assertThat(get.getAttributes().get(CallTrace.READ_BYTES)).isEqualTo(files);
    assertThat(get.getAttributes().get(CallTrace.WRITTEN_BYTES)).isZero();
    assertThat(get.getAttributes().get(CallTrace.CPU)).isPositive();

    Scrape scrape = new Scrape(fixture.get("/metrics"));
    assertThat(scrape.value("quiver_io_written_bytes_total")).isEqualTo(files);
    assertThat(scrape.value("quiver_io_read_bytes_total")).isEqualTo(files);
    assertThat(scrape.value("quiver_call_cpu_seconds_count", "method", "DoGet")).isEqualTo(1);
    assertThat(scrape.value("quiver_call_cpu_seconds_sum", "method", "DoGet")).isPositive();
    assertThat(scrape.value("quiver_call_cpu_seconds_sum", "method", "DoPut")).isPositive();

    JsonNode status = new ObjectMapper().readTree(fixture.get("/status.json"));
    assertThat(status.at("/tables/0/table").asText()).isEqualTo("sales.orders");
    assertThat(status.at("/tables/0/read_bytes").asLong()).isEqualTo(files);
    assertThat(status.at("/tables/0/written_bytes").asLong()).isEqualTo(files);
    JsonNode recent = status.get("recent");
    JsonNode getRow = row(recent, "DoGet");
    assertThat(getRow.get("cpuMs").asDouble()).isPositive();
    assertThat(getRow.get("readBytes").asLong()).isEqualTo(files);
    assertThat(row(recent, "DoPut").get("writtenBytes").asLong()).isEqualTo(files);

    // A second scan reads the same files again: the read counters double.
    assertThat(fixture.scanCount(ORDERS)).isEqualTo(200_000);
    await(() -> fixture.spans.getFinishedSpanItems().size() >= 5, "the second scan to end");
    Scrape after = new Scrape(fixture.get("/metrics"));
    assertThat(after.value("quiver_io_read_bytes_total")).isEqualTo(2 * files);
    assertThat(after.value("quiver_io_written_bytes_total")).isEqualTo(files);
    JsonNode table = new ObjectMapper().readTree(fixture.get("/status.json")).at("/tables/0");
    assertThat(table.get("read_bytes").asLong()).isEqualTo(2 * files);
    assertThat(table.get("written_bytes").asLong()).isEqualTo(files);
  }

  private SpanData span(String method) {
    List<SpanData> spans =
        fixture.spans.getFinishedSpanItems().stream()
            .filter(s -> method.equals(s.getAttributes().get(CallTracer.RPC_METHOD)))
            .toList();
    assertThat(spans).as("%s spans", method).hasSize(1);
    return spans.get(0);
  }

  private static JsonNode row(JsonNode calls, String method) {
    for (JsonNode call : calls) {
      if (call.get("method").asText().equals(method)) {
        return call;
      }
    }
    throw new AssertionError("No " + method + " call in " + calls);
  }

  /** Bytes of the Parquet files in the warehouse: the one put's data files. */
  private long parquetBytes() throws IOException {
    try (Stream<Path> paths = Files.walk(dataDir)) {
      long total = 0;
      for (Path path : paths.filter(p -> p.toString().endsWith(".parquet")).toList()) {
        total += Files.size(path);
      }
      return total;
    }
  }
}
