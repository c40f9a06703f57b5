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
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's OpenTelemetry instruments, and running totals of the same figures for the status
 * page and the in-server alert rules.
 *
 * <p>Attributes are bounded: the Flight method and the Flight status code. Tables are an attribute
 * only of the two per-table I/O counters, {@code quiver.table.read} and {@code
 * quiver.table.written}, whose series grow with the tables read or written (the SDK folds series
 * past its cardinality limit, 2,000 per instrument, into one overflow series). Thread-safe.
 *
 * <p>Exported names (Prometheus form): {@code quiver_call_duration_seconds}, {@code
 * quiver_calls_active}, {@code quiver_rows_out_total}, {@code quiver_rows_in_total}, {@code
 * quiver_data_out_bytes_total}, {@code quiver_data_in_bytes_total}, {@code
 * quiver_memory_allocated_bytes}, {@code quiver_memory_limit_bytes}, {@code
 * quiver_memory_pressure}, {@code quiver_admission_queue_length}, {@code
 * quiver_admission_wait_seconds}, {@code quiver_backpressure_stall_seconds_total}, {@code
 * quiver_commits_total}, {@code quiver_commit_conflicts_total}, {@code
 * quiver_memory_limit_hits_total}, {@code quiver_call_cpu_seconds}, {@code
 * quiver_table_read_bytes_total}, {@code quiver_table_written_bytes_total}.
 */
final class CallMetrics implements AutoCloseable {
  static final AttributeKey<String> METHOD = AttributeKey.stringKey("method");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("status");
  static final AttributeKey<String> TABLE = AttributeKey.stringKey("table");

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
  private final LongCounter tableRead;
  private final LongCounter tableWritten;
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
    tableRead =
        counter(
            meter,
            "quiver.table.read",
            "By",
            "Bytes of data and delete files scans planned to read, by table (namespace.table)");
    tableWritten =
        counter(
            meter,
            "quiver.table.written",
            "By",
            "Bytes of data files committed, by table (namespace.table)");
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
    if (!table.isEmpty() && bytes > 0) {
      tableRead.add(bytes, Attributes.of(TABLE, table));
    }
  }

  void tableWritten(String table, long bytes) {
    if (!table.isEmpty() && bytes > 0) {
      tableWritten.add(bytes, Attributes.of(TABLE, table));
    }
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
