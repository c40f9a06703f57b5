package dev.quiver.server.telemetry;

import dev.quiver.server.memory.MemoryGovernor;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleCounter;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleGauge;
import io.opentelemetry.api.metrics.ObservableLongGauge;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's OpenTelemetry instruments, and running totals of the same figures for the status
 * page and the in-server alert rules.
 *
 * <p>Attributes are bounded: the Flight method and the Flight status code. Tables are never an
 * attribute: /metrics is open to anyone who reaches the telemetry port, and table names are data
 * (StatusAccessTest). The bytes read and written per table are kept here instead and shown on the
 * status page and /status.json, which need admin ({@link #tableIo()}). Thread-safe.
 *
 * <p>Exported names (Prometheus form): {@code quiver_call_duration_seconds}, {@code
 * quiver_calls_active}, {@code quiver_rows_out_total}, {@code quiver_rows_in_total}, {@code
 * quiver_data_out_bytes_total}, {@code quiver_data_in_bytes_total}, {@code
 * quiver_memory_allocated_bytes}, {@code quiver_memory_limit_bytes}, {@code
 * quiver_memory_pressure}, {@code quiver_admission_queue_length}, {@code
 * quiver_admission_wait_seconds}, {@code quiver_backpressure_stall_seconds_total}, {@code
 * quiver_commits_total}, {@code quiver_commit_conflicts_total}, {@code
 * quiver_memory_limit_hits_total}, {@code quiver_call_cpu_seconds}, {@code
 * quiver_io_read_bytes_total}, {@code quiver_io_written_bytes_total}.
 */
final class CallMetrics implements AutoCloseable {
  static final AttributeKey<String> METHOD = AttributeKey.stringKey("method");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("status");

  /** The most tables {@link #tableIo()} keeps apart; the bytes of others are summed as one row. */
  static final int MAX_TABLES = 10_000;

  static final String OTHER_TABLES = "(other tables)";

  /** Seconds; from 1 ms to about 17 minutes, for calls from a metadata lookup to a long scan. */
  private static final List<Double> DURATION_BUCKETS =
      List.of(
          0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
          300.0, 1000.0);

  private final DoubleHistogram duration;
  private final LongUpDownCounter active;
  private final LongCounter rowsOut;
  private final LongCounter rowsIn;
  private final LongCounter bytesOut;
  private final LongCounter bytesIn;
  private final DoubleHistogram admissionWait;
  private final DoubleCounter stall;
  private final LongCounter commits;
  private final LongCounter commitConflicts;
  private final LongCounter limitHits;
  private final DoubleHistogram cpu;
  private final LongCounter ioRead;
  private final LongCounter ioWritten;
  // Bytes read and written per table (namespace.table): {read, written}.
  private final Map<String, LongAdder[]> tables = new ConcurrentHashMap<>();
  private final List<Runnable> gauges;

  // Running totals, read by the status page and the alert evaluator.
  final LongAdder totalRowsOut = new LongAdder();
  final LongAdder totalRowsIn = new LongAdder();
  final LongAdder totalBytesOut = new LongAdder();
  final LongAdder totalBytesIn = new LongAdder();
  final LongAdder totalCalls = new LongAdder();
  // Failed calls; cancellations (the client went away) are not failures.
  final LongAdder totalErrors = new LongAdder();
  final LongAdder totalStallNanos = new LongAdder();

  CallMetrics(Meter meter, MemoryGovernor memory) {
    duration =
        meter
            .histogramBuilder("quiver.call.duration")
            .setUnit("s")
            .setDescription("Duration of Flight calls, by method and status")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
            .build();
    active =
        meter
            .upDownCounterBuilder("quiver.calls.active")
            .setUnit("{call}")
            .setDescription("Flight calls in progress, by method")
            .build();
    rowsOut = counter(meter, "quiver.rows.out", "{row}", "Rows sent to clients by DoGet");
    rowsIn = counter(meter, "quiver.rows.in", "{row}", "Rows received from clients by DoPut");
    bytesOut = counter(meter, "quiver.data.out", "By", "Arrow bytes sent to clients by DoGet");
    bytesIn = counter(meter, "quiver.data.in", "By", "Arrow bytes received from clients by DoPut");
    admissionWait =
        meter
            .histogramBuilder("quiver.admission.wait")
            .setUnit("s")
            .setDescription("Time calls waited for memory admission")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
            .build();
    stall =
        meter
            .counterBuilder("quiver.backpressure.stall")
            .ofDoubles()
            .setUnit("s")
            .setDescription("Time DoGet streams waited for slow clients to become ready")
            .build();
    commits = counter(meter, "quiver.commits", "{commit}", "Iceberg commits made by DoPut");
    commitConflicts =
        counter(
            meter,
            "quiver.commit.conflicts",
            "{commit}",
            "DoPut commits that failed on a conflict Iceberg could not retry away");
    limitHits =
        counter(
            meter,
            "quiver.memory.limit_hits",
            "{call}",
            "Calls refused or failed by a memory limit (memory.total, memory.query-limit, admission)");
    cpu =
        meter
            .histogramBuilder("quiver.call.cpu")
            .setUnit("s")
            .setDescription("CPU time of the threads working for Flight calls, by method")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
            .build();
    ioRead =
        counter(
            meter,
            "quiver.io.read",
            "By",
            "Bytes of data and delete files DoGet scans planned to read (per table on the status"
                + " page)");
    ioWritten =
        counter(
            meter,
            "quiver.io.written",
            "By",
            "Bytes of data files committed (per table on the status page)");
    ObservableLongGauge allocated =
        meter
            .gaugeBuilder("quiver.memory.allocated")
            .ofLongs()
            .setUnit("By")
            .setDescription("Arrow memory allocated by all calls")
            .buildWithCallback(m -> m.record(memory.allocated()));
    ObservableLongGauge limit =
        meter
            .gaugeBuilder("quiver.memory.limit")
            .ofLongs()
            .setUnit("By")
            .setDescription("Arrow memory all calls together may hold (memory.total)")
            .buildWithCallback(m -> m.record(memory.root().getLimit()));
    ObservableDoubleGauge pressure =
        meter
            .gaugeBuilder("quiver.memory.pressure")
            .setUnit("1")
            .setDescription("Allocated Arrow memory over memory.total")
            .buildWithCallback(m -> m.record(memory.pressure()));
    ObservableLongGauge queue =
        meter
            .gaugeBuilder("quiver.admission.queue.length")
            .ofLongs()
            .setUnit("{call}")
            .setDescription("Calls waiting for memory admission")
            .buildWithCallback(m -> m.record(memory.queued()));
    gauges = List.of(allocated::close, limit::close, pressure::close, queue::close);
    // Zero from the start, so dashboards and alert rules find every series before the first event.
    stall.add(0);
    commits.add(0);
    commitConflicts.add(0);
    limitHits.add(0);
    rowsIn.add(0);
    rowsOut.add(0);
    bytesIn.add(0);
    bytesOut.add(0);
  }

  private static LongCounter counter(Meter meter, String name, String unit, String description) {
    return meter.counterBuilder(name).setUnit(unit).setDescription(description).build();
  }

  void started(String method) {
    active.add(1, Attributes.of(METHOD, method));
  }

  void ended(String method, String status, long nanos) {
    active.add(-1, Attributes.of(METHOD, method));
    duration.record(nanos / 1e9, Attributes.of(METHOD, method, STATUS, status));
    totalCalls.increment();
    if (!status.equals("OK") && !status.equals("CANCELLED")) {
      totalErrors.increment();
    }
  }

  void cpu(String method, long nanos) {
    cpu.record(nanos / 1e9, Attributes.of(METHOD, method));
  }

  void tableRead(String table, long bytes) {
    if (bytes > 0) {
      ioRead.add(bytes);
      tableIo(table)[0].add(bytes);
    }
  }

  void tableWritten(String table, long bytes) {
    if (bytes > 0) {
      ioWritten.add(bytes);
      tableIo(table)[1].add(bytes);
    }
  }

  private LongAdder[] tableIo(String table) {
    String key = table.isEmpty() ? "(no table)" : table;
    LongAdder[] io = tables.get(key);
    if (io == null) {
      String row = tables.size() < MAX_TABLES ? key : OTHER_TABLES;
      io = tables.computeIfAbsent(row, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
    }
    return io;
  }

  /**
   * Bytes read and written per table since the start, most first (at most 100 rows), for the status
   * page: {@code table}, {@code read_bytes}, {@code written_bytes}.
   */
  List<Map<String, Object>> tableIo() {
    List<Map<String, Object>> rows = new ArrayList<>();
    tables.forEach(
        (table, io) -> {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("table", table);
          row.put("read_bytes", io[0].sum());
          row.put("written_bytes", io[1].sum());
          rows.add(row);
        });
    rows.sort(
        Comparator.comparingLong(
                (Map<String, Object> r) ->
                    (long) r.get("read_bytes") + (long) r.get("written_bytes"))
            .reversed());
    return rows.size() > 100 ? List.copyOf(rows.subList(0, 100)) : rows;
  }

  void sent(long rows, long bytes) {
    rowsOut.add(rows);
    bytesOut.add(bytes);
    totalRowsOut.add(rows);
    totalBytesOut.add(bytes);
  }

  void received(long rows, long bytes) {
    rowsIn.add(rows);
    bytesIn.add(bytes);
    totalRowsIn.add(rows);
    totalBytesIn.add(bytes);
  }

  void admitted(String method, long waitNanos) {
    admissionWait.record(waitNanos / 1e9, Attributes.of(METHOD, method));
  }

  void stalled(long nanos) {
    stall.add(nanos / 1e9);
    totalStallNanos.add(nanos);
  }

  void committed() {
    commits.add(1);
  }

  void commitConflict() {
    commitConflicts.add(1);
  }

  void limitHit() {
    limitHits.add(1);
  }

  @Override
  public void close() {
    gauges.forEach(Runnable::run);
  }
}
