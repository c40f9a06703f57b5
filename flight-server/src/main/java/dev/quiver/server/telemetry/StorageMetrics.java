package dev.quiver.server.telemetry;

import dev.quiver.server.table.StorageIo;
import dev.quiver.server.table.StorageIo.Op;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.util.AutoCloseables;

/**
 * The warehouse storage's figures ({@link StorageIo}) as OpenTelemetry instruments. Exported names
 * (Prometheus form), each with the attributes {@code operation} (read, write, delete, list) and
 * {@code storage} (local, s3):
 *
 * <ul>
 *   <li>{@code quiver_storage_operation_duration_seconds}, a histogram of the time the server
 *       waited on one operation (for a read or a write, on one file's stream, open to close);
 *   <li>{@code quiver_storage_operations_total}, files read, written or deleted and listings;
 *   <li>{@code quiver_storage_io_bytes_total}, bytes read and written.
 * </ul>
 *
 * No table or path is a label: {@code /metrics} is open (per-table I/O is on the status page).
 */
public final class StorageMetrics implements AutoCloseable {
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("operation");
  static final AttributeKey<String> STORAGE = AttributeKey.stringKey("storage");

  /** Seconds; from 100 µs (a local metadata read) to a minute (a large upload). */
  private static final List<Double> BUCKETS =
      List.of(
          0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
          10.0, 30.0, 60.0);

  private final List<AutoCloseable> instruments = new ArrayList<>();

  private StorageMetrics() {}

  /** Registers {@code io}'s instruments with {@code meter}; close to unregister the counters. */
  public static StorageMetrics register(Meter meter, StorageIo io) {
    Map<Op, Attributes> attributes = new EnumMap<>(Op.class);
    for (Op op : Op.values()) {
      attributes.put(op, Attributes.of(OPERATION, op.label(), STORAGE, io.storage()));
    }
    DoubleHistogram duration =
        meter
            .histogramBuilder("quiver.storage.operation.duration")
            .setUnit("s")
            .setDescription("Time the server waited on one storage operation, by operation")
            .setExplicitBucketBoundariesAdvice(BUCKETS)
            .build();
    io.listen((op, bytes, nanos) -> duration.record(nanos / 1e9, attributes.get(op)));
    StorageMetrics metrics = new StorageMetrics();
    metrics.instruments.add(() -> io.listen((op, bytes, nanos) -> {}));
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.storage.operations")
            .setUnit("{operation}")
            .setDescription("Storage operations: files read, written or deleted, and listings")
            .buildWithCallback(
                m -> {
                  for (Op op : Op.values()) {
                    m.record(io.totals(op).operations(), attributes.get(op));
                  }
                }));
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.storage.io")
            .setUnit("By")
            .setDescription("Bytes read from and written to storage through Iceberg's FileIO")
            .buildWithCallback(
                m -> {
                  m.record(io.totals(Op.READ).bytes(), attributes.get(Op.READ));
                  m.record(io.totals(Op.WRITE).bytes(), attributes.get(Op.WRITE));
                }));
    return metrics;
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(instruments);
  }
}
