package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.TableId;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.ErrorFlightMetadata;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.grpc.StatusUtils;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * What one Flight call did, as its span, its metrics and its row on the status page see it.
 *
 * <p>{@link CallTracer} starts one per call and the call's middleware ends it when the call ends;
 * handlers find it in their call ({@code QuiverCall.trace()}) and report to it (table, rows, bytes,
 * memory, waits). A call served with telemetry off gets {@link #NONE}, whose methods do nothing.
 * The handler thread writes and the status page reads concurrently, so the figures are atomics;
 * ending is idempotent (the first outcome wins).
 *
 * <p>The call's CPU time is that of the threads while they work for it: inside {@link
 * #makeCurrent()} or a task {@link #wrap wrapped} for it (the gRPC call thread, the DoGet stream
 * thread, the DoPut thread), native code they run included (DuckDB runs a query's pipeline on the
 * calling thread inside its JNI call, and with {@code sql.threads=1} nearly all of it). Work on
 * other threads is not the call's: DuckDB's own worker threads, Netty's event loops writing the
 * batches, arrow-dataset's C++ I/O and decoding threads.
 */
public final class CallTrace {
  static final AttributeKey<String> TABLE = AttributeKey.stringKey("quiver.table");
  static final AttributeKey<Long> SNAPSHOT_ID = AttributeKey.longKey("quiver.snapshot_id");
  static final AttributeKey<Long> ROWS = AttributeKey.longKey("quiver.rows");
  static final AttributeKey<Long> BYTES = AttributeKey.longKey("quiver.bytes");
  static final AttributeKey<Long> BATCHES = AttributeKey.longKey("quiver.batches");
  static final AttributeKey<Long> PEAK_MEMORY = AttributeKey.longKey("quiver.memory.peak");
  static final AttributeKey<Double> ADMISSION_WAIT =
      AttributeKey.doubleKey("quiver.admission.wait_ms");
  static final AttributeKey<Double> STALL = AttributeKey.doubleKey("quiver.backpressure.stall_ms");
  static final AttributeKey<Double> CPU = AttributeKey.doubleKey("quiver.cpu_ms");
  static final AttributeKey<Long> READ_BYTES = AttributeKey.longKey("quiver.io.read_bytes");
  static final AttributeKey<Long> WRITTEN_BYTES = AttributeKey.longKey("quiver.io.written_bytes");
  static final AttributeKey<Long> GRPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
  static final AttributeKey<Double> WAITED_MS = AttributeKey.doubleKey("quiver.waited_ms");
  static final AttributeKey<String> ERROR_CODE = AttributeKey.stringKey("quiver.error_code");

  /** The most backpressure-stall events one span records; the total is an attribute anyway. */
  static final int MAX_STALL_EVENTS = 16;

  /** Stalls shorter than this are counted but get no span event. */
  private static final long STALL_EVENT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** The trace of a call that is not traced: every method does nothing. */
  public static final CallTrace NONE = new CallTrace();

  private final Span span;
  private final Context context;
  private final String method;
  private final CallMetrics metrics;
  private final CallRegistry registry;
  private final long startNanos;
  private final Instant startedAt;
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile String table = "";
  private volatile long snapshotId = -1;
  private final AtomicLong rows = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong stallNanos = new AtomicLong();
  private final AtomicLong stallEvents = new AtomicLong();
  private volatile long admissionWaitNanos;
  private volatile BufferAllocator allocator;
  private volatile long peakMemory;
  private volatile long endNanos;
  private volatile String status = "";
  private final AtomicLong readBytes = new AtomicLong();
  private final AtomicLong writtenBytes = new AtomicLong();

  // CPU: what threads that finished working for the call spent, plus, per thread working for it
  // now, its CPU time when it started; frozen when the call ends. Guarded by itself.
  private final Map<Thread, Long> working = new HashMap<>();
  private long cpuNanos;
  private boolean cpuFrozen;

  private CallTrace() {
    this.span = Span.getInvalid();
    this.context = Context.root();
    this.method = "";
    this.metrics = null;
    this.registry = null;
    this.startNanos = 0;
    this.startedAt = Instant.EPOCH;
    this.ended.set(true);
  }

  CallTrace(Span span, Context context, String method, CallMetrics metrics, CallRegistry registry) {
    this.span = requireNonNull(span, "span is null");
    this.context = requireNonNull(context, "context is null");
    this.method = requireNonNull(method, "method is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.registry = requireNonNull(registry, "registry is null");
    this.startNanos = System.nanoTime();
    this.startedAt = Instant.now();
    metrics.started(method);
    registry.started(this);
  }

  private boolean off() {
    return this == NONE;
  }

  /**
   * Makes the call's span current on this thread until the scope is closed, so logs written and
   * spans started meanwhile carry its trace id. Close it on the same thread (try-with-resources).
   */
  public Scope makeCurrent() {
    if (off()) {
      return Scope.noop();
    }
    Scope scope = context.makeCurrent();
    boolean started = startWork();
    return () -> {
      stopWork(started);
      scope.close();
    };
  }

  /**
   * {@code task} wrapped to run with the call's span current, for work the call hands to another
   * thread (its logs then carry the trace id).
   */
  public Runnable wrap(Runnable task) {
    if (off()) {
      return task;
    }
    Runnable inContext = context.wrap(task);
    return () -> {
      boolean started = startWork();
      try {
        inContext.run();
      } finally {
        stopWork(started);
      }
    };
  }

  /** Charges the calling thread's CPU to the call from now; false if it already is (nested). */
  private boolean startWork() {
    synchronized (working) {
      return working.putIfAbsent(Thread.currentThread(), ThreadCpu.current()) == null;
    }
  }

  /** Stops charging the calling thread's CPU to the call, if {@code started} started it. */
  private void stopWork(boolean started) {
    if (!started) {
      return;
    }
    synchronized (working) {
      Long start = working.remove(Thread.currentThread());
      if (start != null && !cpuFrozen) {
        cpuNanos += Math.max(0, ThreadCpu.current() - start);
      }
    }
  }

  /** The call's CPU time so far, counting threads still working for it up to now. */
  private long cpuNanos() {
    synchronized (working) {
      if (cpuFrozen) {
        return cpuNanos;
      }
      long total = cpuNanos;
      Thread self = Thread.currentThread();
      for (Map.Entry<Thread, Long> entry : working.entrySet()) {
        long now = entry.getKey() == self ? ThreadCpu.current() : ThreadCpu.of(entry.getKey());
        total += Math.max(0, now - entry.getValue());
      }
      return total;
    }
  }

  private long freezeCpu() {
    synchronized (working) {
      cpuNanos = cpuNanos();
      cpuFrozen = true;
      return cpuNanos;
    }
  }

  /** The table the call works on. */
  public void table(TableId id) {
    if (off()) {
      return;
    }
    table = id.toString();
    span.setAttribute(TABLE, table);
  }

  /** The snapshot the call reads or wrote. */
  public void snapshot(long id) {
    if (off()) {
      return;
    }
    snapshotId = id;
    span.setAttribute(SNAPSHOT_ID, id);
  }

  /**
   * Opens the call's allocator through {@code admission} (which may wait in the admission queue),
   * recording the wait; the allocator's peak is reported when the call ends.
   */
  public BufferAllocator admit(Supplier<BufferAllocator> admission) {
    if (off()) {
      return admission.get();
    }
    long start = System.nanoTime();
    BufferAllocator opened = admission.get();
    long waited = System.nanoTime() - start;
    admissionWaitNanos = waited;
    allocator = opened;
    metrics.admitted(method, waited);
    return opened;
  }

  /** A batch of {@code batchRows} rows and {@code batchBytes} Arrow bytes went to the client. */
  public void sent(long batchRows, long batchBytes) {
    if (off()) {
      return;
    }
    rows.addAndGet(batchRows);
    bytes.addAndGet(batchBytes);
    batches.incrementAndGet();
    metrics.sent(batchRows, batchBytes);
    notePeak();
  }

  /** A batch of {@code batchBytes} Arrow bytes arrived from the client. */
  public void received(long batchBytes) {
    if (off()) {
      return;
    }
    bytes.addAndGet(batchBytes);
    batches.incrementAndGet();
    metrics.received(0, batchBytes);
    notePeak();
  }

  /**
   * The call reads {@code bytes} of data and delete files: the sizes of the files its scan planned,
   * which is the most the scan reads (a filter or a limit may skip row groups).
   */
  public void read(long bytes) {
    if (off()) {
      return;
    }
    readBytes.addAndGet(bytes);
  }

  /** The stream waited {@code nanos} for a client that was not ready (backpressure). */
  public void stalled(long nanos) {
    if (off()) {
      return;
    }
    stallNanos.addAndGet(nanos);
    metrics.stalled(nanos);
    if (nanos >= STALL_EVENT_NANOS && stallEvents.incrementAndGet() <= MAX_STALL_EVENTS) {
      span.addEvent("backpressure stall", Attributes.of(WAITED_MS, nanos / 1e6));
    }
  }

  /** The put committed as {@code receipt} says. */
  public void committed(PutReceipt receipt) {
    if (off()) {
      return;
    }
    rows.set(receipt.rows());
    writtenBytes.addAndGet(receipt.bytes());
    metrics.received(receipt.rows(), 0);
    metrics.tableWritten(table, receipt.bytes());
    metrics.committed();
    snapshot(receipt.snapshotId());
    span.addEvent(
        "commit",
        Attributes.of(
            SNAPSHOT_ID,
            receipt.snapshotId(),
            ROWS,
            receipt.rows(),
            AttributeKey.longKey("quiver.files"),
            (long) receipt.files()));
  }

  /**
   * Notes the error the call is about to send: a memory limit becomes a span event and a count, a
   * commit conflict a count. Returns {@code error} so the handler can send it on.
   */
  public FlightRuntimeException failed(FlightRuntimeException error) {
    if (off()) {
      return error;
    }
    QuiverErrorCode code = errorCode(error.status());
    if (code == QuiverErrorCode.QUERY_MEMORY_EXCEEDED
        || code == QuiverErrorCode.SERVER_MEMORY_EXHAUSTED) {
      metrics.limitHit();
      span.addEvent(
          "memory limit hit",
          Attributes.of(
              ERROR_CODE,
              code.name(),
              AttributeKey.stringKey("exception.message"),
              String.valueOf(error.status().description())));
    } else if (code == QuiverErrorCode.COMMIT_CONFLICT) {
      metrics.commitConflict();
    }
    if (code != null) {
      span.setAttribute(ERROR_CODE, code.name());
    }
    return error;
  }

  /** The Arrow bytes of the batch in {@code root}, as it goes on the wire (near enough). */
  public static long bytesOf(VectorSchemaRoot root) {
    long total = 0;
    for (FieldVector vector : root.getFieldVectors()) {
      total += vector.getBufferSize();
    }
    return total;
  }

  private static QuiverErrorCode errorCode(CallStatus status) {
    ErrorFlightMetadata metadata = status.metadata();
    if (metadata == null || !metadata.containsKey(QuiverErrorCode.METADATA_KEY)) {
      return null;
    }
    try {
      return QuiverErrorCode.valueOf(metadata.get(QuiverErrorCode.METADATA_KEY));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private void notePeak() {
    BufferAllocator current = allocator;
    if (current != null) {
      peakMemory = Math.max(peakMemory, current.getPeakMemoryAllocation());
    }
  }

  /**
   * Ends the call with {@code outcome}: sets the span's attributes and status, ends it, records the
   * call's metrics and moves it to the status page's recent calls. Later calls do nothing.
   */
  public void end(CallStatus outcome) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    notePeak();
    long cpu = freezeCpu();
    endNanos = System.nanoTime();
    FlightStatusCode code = outcome.code();
    status = code.name();
    span.setAttribute(GRPC_STATUS, (long) StatusUtils.toGrpcStatusCode(code).value());
    span.setAttribute(ROWS, rows.get());
    span.setAttribute(BYTES, bytes.get());
    span.setAttribute(BATCHES, batches.get());
    span.setAttribute(PEAK_MEMORY, peakMemory);
    span.setAttribute(ADMISSION_WAIT, admissionWaitNanos / 1e6);
    span.setAttribute(STALL, stallNanos.get() / 1e6);
    span.setAttribute(CPU, cpu / 1e6);
    span.setAttribute(READ_BYTES, readBytes.get());
    span.setAttribute(WRITTEN_BYTES, writtenBytes.get());
    if (code == FlightStatusCode.OK) {
      span.setStatus(StatusCode.OK);
    } else if (code == FlightStatusCode.CANCELLED) {
      // The client went away: not a server error, so the status stays unset (as OpenTelemetry's
      // RPC conventions have it), and an event says what happened.
      span.addEvent("cancelled");
    } else {
      String description = outcome.description();
      span.setStatus(
          StatusCode.ERROR,
          description == null || description.isEmpty() ? code.name() : code + ": " + description);
    }
    span.end();
    metrics.ended(method, status, endNanos - startNanos);
    metrics.cpu(method, cpu);
    metrics.tableRead(table, readBytes.get());
    registry.ended(this);
  }

  /** The call as the status page shows it. */
  CallView view() {
    boolean done = ended.get();
    long end = done ? endNanos : System.nanoTime();
    BufferAllocator current = allocator;
    long memoryNow = !done && current != null ? safeAllocated(current) : 0;
    return new CallView(
        method,
        table,
        snapshotId,
        rows.get(),
        bytes.get(),
        batches.get(),
        memoryNow,
        Math.max(peakMemory, current == null || done ? 0 : safePeak(current)),
        admissionWaitNanos / 1e6,
        stallNanos.get() / 1e6,
        cpuNanos() / 1e6,
        readBytes.get(),
        writtenBytes.get(),
        (end - startNanos) / 1e6,
        startedAt.toEpochMilli(),
        done ? status : "RUNNING",
        span.getSpanContext().getTraceId());
  }

  private static long safeAllocated(BufferAllocator allocator) {
    try {
      return allocator.getAllocatedMemory();
    } catch (RuntimeException closed) {
      return 0;
    }
  }

  private static long safePeak(BufferAllocator allocator) {
    try {
      return allocator.getPeakMemoryAllocation();
    } catch (RuntimeException closed) {
      return 0;
    }
  }

  /** The call's span, for recording what ended it. */
  public Span span() {
    return span;
  }

  /**
   * One call as the status page lists it.
   *
   * @param method the Flight method, e.g. DoGet
   * @param table {@code namespace.name}, or empty when the call names no table
   * @param snapshotId the snapshot read or written, or -1
   * @param rows rows sent or committed
   * @param bytes Arrow bytes sent or received
   * @param batches record batches sent or received
   * @param memory Arrow memory the call holds now (0 once it ended)
   * @param peakMemory the most Arrow memory the call held
   * @param admissionWaitMs time the call waited for memory admission
   * @param stallMs time the call waited for a slow client
   * @param cpuMs CPU time of the call's threads (see {@link CallTrace})
   * @param readBytes bytes of data files the call's scan planned to read
   * @param writtenBytes bytes of data files the call committed
   * @param durationMs time since the call started, or its whole duration once ended
   * @param startedAtMillis when the call started, in milliseconds since the epoch
   * @param status RUNNING, or the Flight status it ended with
   * @param traceId the call's trace id
   */
  record CallView(
      String method,
      String table,
      long snapshotId,
      long rows,
      long bytes,
      long batches,
      long memory,
      long peakMemory,
      double admissionWaitMs,
      double stallMs,
      double cpuMs,
      long readBytes,
      long writtenBytes,
      double durationMs,
      long startedAtMillis,
      String status,
      String traceId) {}
}
