package dev.quiver.server.memory;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.AllocationOutcome;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.RootAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the server's one Arrow {@link RootAllocator}: the budget ({@link #root()}, Arrow's share of
 * memory.total) holding Flight's transport ({@link #transport()}, with a reserve calls cannot take)
 * and a child allocator per call, capped at memory.query-limit; and, beside the budget, allocators
 * for C Data imports ({@link #newImportAllocator}), which must never refuse (Arrow Java 18.3 leaks
 * a batch whose import is refused halfway). Calls wait for their reservation in the {@link
 * AdmissionQueue}. Once running, a call that streams batches takes its next one only when at least
 * {@link #serverMargin()} is left ({@link #awaitRoom}), and a call's allocation that finds the
 * budget full waits for room; both wait, under memory.admission-timeout, instead of failing because
 * others took the memory after the call was admitted. docs/architecture.md (Memory) has the why of
 * each part and the measurements behind it.
 *
 * <p>Whoever takes a call allocator closes it on every path; {@link #close()} then finds the root
 * empty.
 */
@ThreadSafe
public final class MemoryGovernor implements AutoCloseable {
  static final String TOTAL_KEY = "memory.total";
  static final String QUERY_LIMIT_KEY = "memory.query-limit";

  /** The most {@link #serverMargin()} can be, however large memory.total is. */
  static final long MAX_SERVER_MARGIN = 64L << 20;

  /** How many limit hits the report keeps. */
  static final int RECENT_HITS = 20;

  private static final Logger LOG = LoggerFactory.getLogger(MemoryGovernor.class);

  private final RootAllocator base;
  private final BufferAllocator root; // the budget: memory.total
  private final BufferAllocator transport;
  private final UnpooledByteBufAllocator transportBuffers = new UnpooledByteBufAllocator(true);
  private final long transportReserve;
  private final long serverMargin;
  private final long queryLimit;
  private final long callReservation;
  private final Admission admissionSettings;
  private final AdmissionQueue admission;
  // Open call allocators with the System.nanoTime() they opened at; for the report.
  private final Map<BufferAllocator, Long> openedAt = new ConcurrentHashMap<>();

  // Never held while calling into the root: the allocation listener runs under the root's lock.
  private final Object lock = new Object();

  @GuardedBy("lock")
  private int openCalls;

  private final LimitHits hits = new LimitHits(RECENT_HITS);

  private final TransportListener transportListener;

  private final ReleaseSignal releases = new ReleaseSignal();
  private final UploadPacing pacing = new UploadPacing();
  private final MemoryWaits roomWaits = new MemoryWaits();
  private final DrainingCloser draining = new DrainingCloser();

  /**
   * What a call needs to be admitted, and how long it may wait.
   *
   * @param callReservation bytes reserved for each call when it opens (capped at the query limit);
   *     0 admits every call at once
   * @param queueLength the most calls that wait for admission; 0 refuses at once
   * @param timeout the longest a call waits for admission
   */
  public record Admission(long callReservation, int queueLength, Duration timeout) {
    /** Every call is admitted at once, with no reservation. */
    public static final Admission NONE = new Admission(0, 0, Duration.ZERO);

    public Admission {
      requireNonNull(timeout, "timeout is null");
      if (callReservation < 0 || queueLength < 0 || timeout.isNegative()) {
        throw new IllegalArgumentException(
            "Admission settings must not be negative: "
                + callReservation
                + ", "
                + queueLength
                + ", "
                + timeout);
      }
    }
  }

  /** A governor over {@code totalBytes} of Arrow memory, {@code queryLimitBytes} per call. */
  public MemoryGovernor(long totalBytes, long queryLimitBytes) {
    this(totalBytes, queryLimitBytes, Admission.NONE);
  }

  /** A governor that admits calls as {@code admission} says, with no transport reserve. */
  public MemoryGovernor(long totalBytes, long queryLimitBytes, Admission admission) {
    this(totalBytes, queryLimitBytes, admission, 0);
  }

  /**
   * A governor that admits calls as {@code admission} says and keeps {@code transportReserveBytes}
   * of the total for Flight's transport (see the class comment).
   */
  public MemoryGovernor(
      long totalBytes, long queryLimitBytes, Admission admission, long transportReserveBytes) {
    if (transportReserveBytes < 0 || transportReserveBytes > totalBytes / 2) {
      throw new IllegalArgumentException(
          "The transport reserve must be between 0 and half of the total, got "
              + transportReserveBytes);
    }
    // Unpooled: the process holds for Arrow what the allocators count (see
    // UnpooledAllocationManager).
    this.base =
        new RootAllocator(
            RootAllocator.configBuilder()
                .allocationManagerFactory(UnpooledAllocationManager.FACTORY)
                .maxAllocation(Long.MAX_VALUE)
                .build());
    this.root = base.newChildAllocator("quiver", new CallListener(), 0, totalBytes);
    this.serverMargin = Math.min(totalBytes / 8, MAX_SERVER_MARGIN);
    this.transportReserve = transportReserveBytes;
    this.transportListener =
        new TransportListener(
            releases, this::released, admission.timeout(), this::allocated, totalBytes, pacing);
    this.transport =
        root.newChildAllocator(
            "flight-transport", transportListener, transportReserveBytes, totalBytes);
    transportListener.attach(transport);
    this.queryLimit = Math.min(queryLimitBytes, totalBytes);
    this.admissionSettings = requireNonNull(admission, "admission is null");
    this.admission = new AdmissionQueue(admission.queueLength(), admission.timeout());
    this.callReservation = Math.min(admission.callReservation(), queryLimit);
  }

  /**
   * A new child allocator for one call, named for the call and its table; caller closes it.
   *
   * <p>Blocks while the call waits for admission (see the class comment).
   *
   * @throws QuiverException SERVER_MEMORY_EXHAUSTED when the call is refused admission, CANCELLED
   *     when the waiting thread is interrupted
   */
  public BufferAllocator newCallAllocator(String name) {
    return admit(name, queryLimit);
  }

  /**
   * The allocator of {@link #newCallAllocator}, or null when the root cannot spare its reservation
   * now; for a caller that waits in {@link #admission()} for several things at once.
   */
  public BufferAllocator tryNewCallAllocator(String name) {
    return tryOpen(name, queryLimit);
  }

  /** As {@link #tryNewCallAllocator}, for {@link #newNativeCallAllocator}. */
  public BufferAllocator tryNewNativeCallAllocator(String name) {
    return tryOpen(name, root.getLimit());
  }

  /**
   * The line calls wait in for memory and whatever else they need at once (see {@link
   * AdmissionQueue}); a call closing its allocator wakes it.
   */
  public AdmissionQueue admission() {
    return admission;
  }

  /**
   * A call allocator for a call whose batches cross the C Data interface (DoGet's arrow-dataset
   * scan, DoPut's DuckDB writer), admitted as {@link #newCallAllocator} but capped only at {@code
   * memory.total}; the caller enforces the query limit with {@link #checkQueryLimit} after each
   * batch, so a call may overshoot it by one batch.
   *
   * <p>Why: when a hard cap is hit halfway through importing or exporting a batch through the C
   * Data interface, Arrow Java 18.3 leaks the half-moved batch (measured: 128 bytes left in the
   * call allocator on import; the batch's buffers in Flight's allocator on export), so the tree
   * never returns to zero. A batch that is fully moved and then refused is released cleanly.
   */
  public BufferAllocator newNativeCallAllocator(String name) {
    return admit(name, root.getLimit());
  }

  /**
   * Throws {@link #exceeded} when {@code call} (one of this governor's call allocators) holds more
   * than the query limit.
   */
  public void checkQueryLimit(String callName, BufferAllocator call) {
    checkQueryLimit(callName, call.getAllocatedMemory());
  }

  /**
   * Throws {@link #exceeded} when a call holding {@code heldBytes} is over the query limit, or when
   * the server has less than {@link #serverMargin()} left (see the class comment).
   */
  public void checkQueryLimit(String callName, long heldBytes) {
    if (heldBytes > queryLimit) {
      throw exceeded(callName, null);
    }
    if (root.getHeadroom() < serverMargin) {
      throw serverExhausted(callName, null);
    }
  }

  /**
   * As {@link #checkQueryLimit(String, long)} for a call holding {@code heldBytes} with its newest
   * batch, without the server margin, for calls paced where they take memory: the batch is taken
   * already, so stopping the call there fails it for what others took since it was admitted, and
   * only holds memory they wait for (four puts of 8 MB batches under a 32 MB Arrow share each held
   * one and waited for the others until they all timed out). An upload decodes no message ahead
   * while memory is short ({@link #roomToReadAhead}), and a decode that does not fit waits for room
   * (the transport's listener); a stream waits for room before it takes its next batch ({@link
   * #awaitRoom}).
   *
   * @throws QuiverException QUERY_MEMORY_EXCEEDED over the query limit
   */
  public void checkPacedLimit(String callName, long heldBytes) {
    if (heldBytes > queryLimit) {
      throw exceeded(callName, null);
    }
  }

  /**
   * Whether an upload may decode its next message ahead of the batch it is writing: while the
   * server has at least twice {@link #serverMargin()} left. Counts each time the answer is no.
   */
  public boolean roomToReadAhead() {
    if (root.getHeadroom() >= 2 * serverMargin) {
      return true;
    }
    pacing.readAheadHeld();
    return false;
  }

  /** What uploads waited for memory since the start (see {@link #checkPacedLimit}). */
  public UploadPacing.Status uploadPacing() {
    return pacing.status();
  }

  /** Whether a running call may take its next batch now: at least the server margin is left. */
  public boolean hasRoom() {
    return root.getHeadroom() >= serverMargin;
  }

  /**
   * Waits until {@link #hasRoom()}, at most memory.admission-timeout: a stream (a DoGet, a Flight
   * SQL result) takes its next batch only when the server has room for it, so a call admitted
   * earlier slows down, rather than fails, when others take the memory. The caller holds no batch
   * of its own while it waits (only what gRPC has still to send, which the client drains), so
   * waiting calls never hold up one another. Returns early when {@code cancelled} turns true,
   * checked at each release and at {@link #wakeRoomWaiters}.
   *
   * @throws QuiverException SERVER_MEMORY_EXHAUSTED naming memory.admission-timeout when no room
   *     came; CANCELLED when the thread is interrupted
   */
  public void awaitRoom(String callName, BooleanSupplier cancelled) {
    if (hasRoom()) {
      return;
    }
    long timeout = admissionSettings.timeout().toMillis();
    boolean room;
    try {
      room = roomWaits.await(releases, () -> cancelled.getAsBoolean() || hasRoom(), timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, "%s was interrupted while waiting for memory", callName);
    }
    if (!room) {
      record(callName, AdmissionQueue.TIMEOUT_KEY, timeout);
      throw exhausted(
          callName,
          null,
          String.format(
              "; waited %d ms (%s) for %s to be free before its next batch",
              timeout, AdmissionQueue.TIMEOUT_KEY, DataSize.format(serverMargin)));
    }
  }

  /** Wakes the calls in {@link #awaitRoom}, to check whether they were cancelled. */
  public void wakeRoomWaiters() {
    releases.signal();
  }

  /** What running calls waited for room since the start (see {@link #awaitRoom}). */
  public MemoryWaits.Status roomWaits() {
    return roomWaits.status();
  }

  /**
   * Waits until {@code call} (one of this governor's call allocators) holds at most {@code bytes},
   * for at most {@code timeoutMillis}; true if it did. A DoGet sent with zero-copy leaves each
   * batch's buffers with gRPC until Netty has written them to the socket (or dropped them with a
   * reset stream): the call waits here for nothing to be left before it closes its allocator.
   *
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public boolean awaitAtMost(BufferAllocator call, long bytes, long timeoutMillis)
      throws InterruptedException {
    return awaitRelease(() -> call.getAllocatedMemory() <= bytes, timeoutMillis);
  }

  /**
   * Waits until {@code done} holds, checking it again each time any of this governor's memory is
   * released, for at most {@code timeoutMillis}; true if it came. {@code done} runs under a lock
   * that releases wait for: it must only read (reference counts, allocated bytes), never release.
   *
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public boolean awaitRelease(BooleanSupplier done, long timeoutMillis)
      throws InterruptedException {
    return releases.await(done, timeoutMillis);
  }

  /**
   * Closes {@code call} now if it holds nothing, or else as soon as its last buffer is released:
   * for a call whose client stopped reading, so gRPC still holds batches that were sent with
   * zero-copy. Until then the call stays in the report (marked draining) and its bytes stay
   * counted, since they are still in memory; they go when the client reads them or goes away.
   */
  public void closeWhenReleased(BufferAllocator call) {
    draining.closeWhenReleased(call);
  }

  /** How much of memory.total calls leave free: an eighth of it, at most 64 MB. */
  public long serverMargin() {
    return serverMargin;
  }

  private BufferAllocator admit(String name, long cap) {
    return admission.admit(
        name,
        EnumSet.of(AdmissionQueue.Resource.MEMORY),
        () -> {
          BufferAllocator child = tryOpen(name, cap);
          return child == null
              ? AdmissionQueue.Outcome.shortOf(AdmissionQueue.Resource.MEMORY)
              : AdmissionQueue.Outcome.admitted(child);
        },
        () -> false,
        (shortOf, limitKey) -> refuse(name, limitKey));
  }

  /**
   * The refusal of call {@code name}, which could not get its reservation before {@code limitKey}
   * (the admission queue or timeout) ended its wait; remembered for the report.
   */
  public QuiverException refuse(String name, String limitKey) {
    boolean queueFull = limitKey.equals(AdmissionQueue.QUEUE_KEY);
    record(
        name,
        limitKey,
        queueFull ? admissionSettings.queueLength() : admissionSettings.timeout().toMillis());
    String reason =
        queueFull
            ? String.format(
                "the admission queue is full (%s = %d)", limitKey, admissionSettings.queueLength())
            : String.format("waited %d ms (%s)", admissionSettings.timeout().toMillis(), limitKey);
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        "%s: the server's Arrow memory is exhausted (%s of %s in use, memory.total; each call"
            + " reserves %s, memory.call-reservation); %s",
        name,
        DataSize.format(allocated()),
        DataSize.format(root.getLimit()),
        DataSize.format(callReservation),
        reason);
  }

  /** The child allocator, or null when the root cannot spare its reservation. */
  private BufferAllocator tryOpen(String name, long cap) {
    BufferAllocator child;
    try {
      child = root.newChildAllocator(name, callReservation, cap);
    } catch (OutOfMemoryException e) {
      return null;
    }
    openedAt.put(child, System.nanoTime());
    synchronized (lock) {
      openCalls++;
    }
    return child;
  }

  /**
   * Waits until every call allocator has been closed, at most {@code timeout}; true if they all
   * were. Used at shutdown, after the calls have been cancelled, so that the root is closed only
   * once the calls have released their memory.
   */
  public boolean awaitCallsClosed(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (openCalls > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return true;
    }
  }

  /**
   * The budget allocator ({@code memory.total}), for components that live as long as the server.
   */
  public BufferAllocator root() {
    return root;
  }

  /**
   * A new allocator, without limit and outside the budget, for one call's C Data imports (see the
   * class comment); the caller closes it after whatever reads into it. Shares the root with the
   * call allocators, so imported buffers can move into them.
   */
  public BufferAllocator newImportAllocator(String callName) {
    return base.newChildAllocator(callName + " (C Data import)", 0, Long.MAX_VALUE);
  }

  /** Bytes of C++ batches imported and not yet taken over by a call (see the class comment). */
  long importing() {
    return base.getAllocatedMemory() - root.getAllocatedMemory();
  }

  /**
   * The allocator the Flight server decodes incoming messages into, with its reserve (see the class
   * comment); it lives as long as the server and this governor closes it.
   */
  public BufferAllocator transport() {
    return transport;
  }

  /**
   * The byte buffers gRPC's Netty reads and writes Flight's frames in, for the server's child
   * channels. Unpooled, for the reason Arrow's allocation is (see {@link
   * UnpooledAllocationManager}): gRPC's default is a Netty pool of 2 MiB chunks, several arenas and
   * per-thread caches that keeps freed chunks. What it holds is what gRPC has in flight: frames
   * read but not yet decoded, and encoded messages waiting for the client's flow-control window.
   */
  public ByteBufAllocator transportBuffers() {
    return transportBuffers;
  }

  /** Direct memory {@link #transportBuffers()} holds now. */
  public long transportBuffersAllocated() {
    return transportBuffers.metric().usedDirectMemory();
  }

  public long queryLimit() {
    return queryLimit;
  }

  /** Allocated over memory.total, read from a few counters without locking. */
  public double pressure() {
    return (double) allocated() / root.getLimit();
  }

  /**
   * Bytes of Arrow memory in use now: every call (admission reservations included) and Flight's
   * transport. The unused part of the transport reserve is not counted: it is kept, not used.
   */
  public long allocated() {
    long unusedReserve = Math.max(0, transportReserve - transport.getAllocatedMemory());
    return root.getAllocatedMemory() - unusedReserve;
  }

  /**
   * The most bytes calls held at once, plus whatever Flight's transport decoded beyond its reserve.
   * Decoding within the reserve is left out: the reserve is set aside from the start, so counting
   * it would make the peak of an idle server the reserve itself.
   */
  public long peak() {
    return root.getPeakMemoryAllocation() - transportReserve;
  }

  /** Calls waiting for admission now. */
  public int queued() {
    return admission.queued();
  }

  /**
   * The error for a call whose allocator ran out, naming the call and the limit; remembered for
   * {@link #report()}.
   */
  public QuiverException exceeded(String callName, Throwable cause) {
    boolean serverFull = root.getAllocatedMemory() + queryLimit > root.getLimit();
    if (serverFull) {
      return serverExhausted(callName, cause);
    }
    record(callName, QUERY_LIMIT_KEY, queryLimit);
    return new QuiverException(
        QuiverErrorCode.QUERY_MEMORY_EXCEEDED,
        cause,
        "%s needs more than %s (memory.query-limit)",
        callName,
        DataSize.format(queryLimit));
  }

  private QuiverException serverExhausted(String callName, Throwable cause) {
    record(callName, TOTAL_KEY, root.getLimit());
    return exhausted(callName, cause, "");
  }

  /** SERVER_MEMORY_EXHAUSTED for {@code callName}, naming the use, then {@code why}. */
  private QuiverException exhausted(String callName, Throwable cause, String why) {
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        cause,
        "%s: the server's Arrow memory is exhausted (%s of %s in use, memory.total)%s",
        callName,
        DataSize.format(allocated()),
        DataSize.format(root.getLimit()),
        why);
  }

  private void record(String name, String limitKey, long limit) {
    hits.record(name, limitKey, limit);
  }

  /** A picture of the memory now: limits, use, the queue, live calls and recent limit hits. */
  public MemoryReport report() {
    long now = System.nanoTime();
    List<MemoryReport.CallUsage> calls = new ArrayList<>();
    openedAt.forEach(
        (call, opened) ->
            calls.add(
                new MemoryReport.CallUsage(
                    call.getName(),
                    call.getAllocatedMemory(),
                    call.getPeakMemoryAllocation(),
                    Math.min(call.getLimit(), queryLimit),
                    Duration.ofNanos(now - opened),
                    draining.isDraining(call))));
    calls.sort(Comparator.comparing(MemoryReport.CallUsage::age).reversed());
    AdmissionQueue.Status memoryQueue = admission.status(AdmissionQueue.Resource.MEMORY);
    synchronized (lock) {
      return new MemoryReport(
          Instant.now(),
          root.getLimit(),
          queryLimit,
          callReservation,
          transportReserve,
          transport.getAllocatedMemory(),
          allocated(),
          peak(),
          memoryQueue.queued(),
          memoryQueue.waits(),
          memoryQueue.refused(),
          calls,
          hits.recent());
    }
  }

  /**
   * Closes the transport and root allocators. If calls still hold memory (they did not finish when
   * asked to), the allocators are left open and the holders are logged: the process is exiting, and
   * failing the shutdown over it would only hide the report.
   */
  @Override
  public void close() {
    awaitDrained(TimeUnit.SECONDS.toMillis(5));
    if (transport.getAllocatedMemory() != 0
        || root.getChildAllocators().size() != 1
        || root.getAllocatedMemory() != transportReserve) {
      LOG.error("Arrow memory still held at shutdown:\n{}", root.toVerboseString());
      return;
    }
    if (base.getChildAllocators().size() != 1) {
      LOG.error("C Data imports still open at shutdown:\n{}", base.toVerboseString());
      return;
    }
    transport.close();
    root.close();
    base.close();
  }

  // Shutdown: gRPC has dropped its streams by now, so draining calls are about to close.
  private void awaitDrained(long timeoutMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try {
      awaitRelease(draining::isEmpty, timeoutMillis);
      draining.shutdown(deadline - System.nanoTime());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Transport decodes waiting for memory now (see the class comment). */
  int transportWaiters() {
    return transportListener.waiters();
  }

  /**
   * Closes draining calls that are now empty and wakes whoever waits in {@link #awaitRelease}
   * (transport decodes, DoGets waiting for gRPC, shutdown); cheap when there are none (every
   * release calls it).
   */
  private void released() {
    draining.released();
    releases.signal();
  }

  private final class CallListener implements AllocationListener {
    @Override
    public void onRelease(long size) {
      released();
    }

    /**
     * A call's allocation that the budget refused waits, at most memory.admission-timeout, for
     * others to release enough, then tries again; true if room came. One the call's own cap refused
     * ({@code FAILED_LOCAL}), or larger than calls may ever hold together, fails at once.
     */
    @Override
    public boolean onFailedAllocation(long size, AllocationOutcome outcome) {
      if (outcome.getStatus() != AllocationOutcome.Status.FAILED_PARENT
          || size > root.getLimit() - transportReserve) {
        return false;
      }
      try {
        return roomWaits.await(
            releases, () -> root.getHeadroom() >= size, admissionSettings.timeout().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    @Override
    public void onChildRemoved(BufferAllocator parent, BufferAllocator child) {
      if (parent == root && openedAt.remove(child) != null) {
        synchronized (lock) {
          openCalls--;
          lock.notifyAll();
        }
        admission.released();
      }
    }
  }
}
