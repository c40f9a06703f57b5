package dev.quiver.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * An in-process server with telemetry on (spans to an in-memory exporter, the telemetry endpoint on
 * a free port) and an SDK client; closes both.
 */
final class TelemetryFixture implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(20);

  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final QuiverServer server;
  final QuiverClient client;
  private final HttpClient http = HttpClient.newHttpClient();

  TelemetryFixture(BufferAllocator allocator, Path dataDir, Map<String, String> overrides)
      throws IOException {
    this(allocator, dataDir, overrides, Map.of());
  }

  /** As above, with OpenTelemetry SDK properties ({@code otel.*}) added. */
  TelemetryFixture(
      BufferAllocator allocator,
      Path dataDir,
      Map<String, String> overrides,
      Map<String, String> otelProperties)
      throws IOException {
    Map<String, String> flags = new HashMap<>();
    flags.put("flight.port", "0");
    flags.put("storage.data-dir", dataDir.toString());
    flags.put("memory.total", "256MB");
    flags.put("telemetry.prometheus-port", "0");
    flags.putAll(overrides);
    server =
        QuiverServer.start(
            ServerConfig.load(Map.of(), Map.of(), flags),
            new TelemetryOptions(otelProperties, List.of(SimpleSpanProcessor.create(spans))));
    client =
        QuiverClient.connect(
            server.location(), ClientOptions.builder().parentAllocator(allocator).build());
  }

  /** Puts {@code batches} batches of {@code rows} sequential ids into {@code table}. */
  PutReceipt put(BufferAllocator allocator, TableId table, int batches, int rows) throws Exception {
    Schema schema = new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true))));
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    try (BufferAllocator child = allocator.newChildAllocator("put", 0, Long.MAX_VALUE);
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, child);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, stream)) {
      BigIntVector ids = (BigIntVector) root.getVector(0);
      for (int batch = 0; batch < batches; batch++) {
        ids.allocateNew(rows);
        for (int i = 0; i < rows; i++) {
          ids.set(i, (long) batch * rows + i);
        }
        root.setRowCount(rows);
        writer.writeBatch();
      }
      writer.end();
      try (ArrowReader reader =
          new ArrowStreamReader(new ByteArrayInputStream(stream.toByteArray()), child)) {
        return client.put(table, reader);
      }
    }
  }

  /** Reads every row of {@code table}; returns the row count. */
  long scanCount(TableId table) throws Exception {
    long rows = 0;
    try (ArrowReader reader = client.scan(table)) {
      while (reader.loadNextBatch()) {
        rows += reader.getVectorSchemaRoot().getRowCount();
      }
    }
    return rows;
  }

  String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.telemetryPort().getAsInt() + path))
                .timeout(WAIT)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("GET %s", path).isEqualTo(200);
    return response.body();
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out after " + WAIT + " waiting for " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(client, server);
  }
}
