package dev.quiver.server.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.testing.Await;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.BufferLedger;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.util.AutoCloseables;
import org.junit.jupiter.api.Test;

class MemoryGovernorTest {
  @Test
  void callAllocatorsAreCappedAtTheQueryLimit() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 64 << 10);
        BufferAllocator call = governor.newCallAllocator("DoGet ns.t")) {
      assertThatThrownBy(() -> call.buffer(128 << 10)).isInstanceOf(OutOfMemoryException.class);
      try (ArrowBuf buffer = call.buffer(32 << 10)) {
        assertThat(governor.allocated()).isEqualTo(buffer.capacity());
      }
      assertThat(governor.allocated()).isZero();
    }
  }

  @Test
  void callBuffersComeUnpooledFromTheCHeap() {
    try (MemoryGovernor governor = new MemoryGovernor(8 << 20, 4 << 20);
        BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
        ArrowBuf buffer = call.buffer(1 << 20)) {
      // Not arrow-memory-netty's pooled manager: what Arrow counts is what the process holds.
      assertThat(((BufferLedger) buffer.getReferenceManager()).getAllocationManager())
          .isInstanceOf(UnpooledAllocationManager.class);
      buffer.setLong(0, 42);
      assertThat(buffer.getLong(0)).isEqualTo(42);
    }
  }

  @Test
  void transportBuffersAreUnpooledAndCounted() {
    try (MemoryGovernor governor = new MemoryGovernor(8 << 20, 4 << 20)) {
      ByteBuf frame = governor.transportBuffers().buffer(1 << 20);
      try {
        assertThat(frame.isDirect()).isTrue();
        assertThat(governor.transportBuffersAllocated()).isGreaterThanOrEqualTo(1 << 20);
      } finally {
        frame.release();
      }
      assertThat(governor.transportBuffersAllocated()).isZero();
    }
  }

  @Test
  void awaitAtMostReturnsWhenAnotherThreadReleasesMemory() throws Exception {
    try (MemoryGovernor governor = new MemoryGovernor(8 << 20, 4 << 20);
        BufferAllocator call = governor.newNativeCallAllocator("DoGet ns.t")) {
      ArrowBuf inFlight = call.buffer(1 << 20);
      assertThat(governor.awaitAtMost(call, 1 << 20, 0)).isTrue();
      assertThat(governor.awaitAtMost(call, 0, 50)).isFalse();
      // As Netty does once it has written a zero-copy batch.
      Thread releaser = new Thread(inFlight::close);
      releaser.start();
      assertThat(governor.awaitAtMost(call, 0, 30_000)).isTrue();
      Await.join(releaser);
    }
  }

  @Test
  void aCallLeftDrainingClosesWhenItsLastBufferIsReleased() throws Exception {
    try (MemoryGovernor governor = new MemoryGovernor(8 << 20, 4 << 20)) {
      BufferAllocator call = governor.newNativeCallAllocator("DoGet ns.t");
      ArrowBuf heldByGrpc = call.buffer(1 << 20);
      governor.closeWhenReleased(call);

      assertThat(governor.report().calls())
          .extracting(MemoryReport.CallUsage::name, MemoryReport.CallUsage::draining)
          .containsExactly(tuple("DoGet ns.t", true));
      assertThat(governor.allocated()).isEqualTo(heldByGrpc.capacity());

      heldByGrpc.close();
      assertThat(governor.awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
      assertThat(governor.report().calls()).isEmpty();
      assertThat(governor.allocated()).isZero();
    }
  }

  @Test
  void aCallThatHoldsNothingClosesAtOnce() throws Exception {
    try (MemoryGovernor governor = new MemoryGovernor(8 << 20, 4 << 20)) {
      governor.closeWhenReleased(governor.newNativeCallAllocator("DoGet ns.t"));
      assertThat(governor.awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
    }
  }

  @Test
  void exceededNamesTheCallAndTheLimit() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 30, 64 << 20)) {
      QuiverException e = governor.exceeded("DoGet sales.orders", null);
      assertThat(e.code()).isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED);
      assertThat(e).hasMessage("DoGet sales.orders needs more than 64.0 MB (memory.query-limit)");
    }
  }

  @Test
  void awaitCallsClosedWaitsForTheLastCall() throws Exception {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20)) {
      BufferAllocator first = governor.newCallAllocator("first");
      BufferAllocator second = governor.newCallAllocator("second");
      first.close();
      assertThat(governor.awaitCallsClosed(Duration.ofMillis(50))).isFalse();
      Thread closer = new Thread(second::close);
      closer.start();
      assertThat(governor.awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
      Await.join(closer);
    }
  }

  @Test
  void closingWithACallStillOpenReportsInsteadOfThrowing() {
    MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20);
    BufferAllocator call = governor.newCallAllocator("stuck");
    governor.close();
    call.close();
    governor.close();
    assertThat(governor.allocated()).isZero();
  }

  private static final long MB = 1 << 20;

  @Test
  void callsCannotTakeTheTransportReserveWhichFlightDecodingAlwaysGets() {
    try (MemoryGovernor governor =
        new MemoryGovernor(16 * MB, 16 * MB, MemoryGovernor.Admission.NONE, 4 * MB)) {
      assertThat(governor.allocated()).as("an unused reserve is not in use").isZero();
      try (BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
          ArrowBuf first = call.buffer(8 * MB);
          ArrowBuf second = call.buffer(4 * MB)) {
        assertThatThrownBy(() -> call.buffer(MB)).isInstanceOf(OutOfMemoryException.class);
        try (ArrowBuf decoded = governor.transport().buffer(4 * MB)) {
          assertThat(governor.allocated()).isEqualTo(16 * MB);
          assertThat(governor.report().transportAllocated()).isEqualTo(4 * MB);
          assertThat(governor.pressure()).isEqualTo(1.0);
        }
      }
      assertThat(governor.allocated()).isZero();
      assertThat(governor.report().transportReserve()).isEqualTo(4 * MB);
      assertThat(governor.peak())
          .as("what calls held; decoding within the reserve is left out")
          .isEqualTo(12 * MB);
    }
  }

  @Test
  void aTransportDecodePastTheReserveWaitsForACallToReleaseMemory() throws Exception {
    try (MemoryGovernor governor = sixteenWithReserve(Duration.ofMinutes(5))) {
      BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
      ArrowBuf held = call.buffer(8 * MB);
      ArrowBuf more = call.buffer(4 * MB);
      try (ArrowBuf reserved = governor.transport().buffer(4 * MB)) {
        Thread releaser =
            new Thread(
                () -> {
                  try {
                    Await.until(() -> governor.transportWaiters() == 1, "the decode to wait");
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  more.close();
                });
        releaser.start();
        try (ArrowBuf decoded = governor.transport().buffer(4 * MB)) {
          assertThat(decoded.capacity()).isEqualTo(4 * MB);
        }
        Await.join(releaser);
      } finally {
        held.close();
        call.close();
      }
    }
  }

  @Test
  void aTransportDecodeThatFindsNoMemoryInTimeFails() {
    try (MemoryGovernor governor = sixteenWithReserve(Duration.ofMillis(50));
        BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
        ArrowBuf held = call.buffer(8 * MB);
        ArrowBuf more = call.buffer(4 * MB);
        ArrowBuf reserved = governor.transport().buffer(4 * MB)) {
      assertThatThrownBy(() -> governor.transport().buffer(MB))
          .isInstanceOf(OutOfMemoryException.class);
      assertThat(governor.transportWaiters()).isZero();
    }
  }

  /** Buffers of {@code sizes} in {@code call}, released when the result is closed. */
  private static AutoCloseable hold(BufferAllocator call, long... sizes) {
    List<ArrowBuf> held = new ArrayList<>();
    for (long size : sizes) {
      held.add(call.buffer(size));
    }
    return () -> AutoCloseables.close(held);
  }

  /** As {@link #sixteen}, 4 MB of it the transport's reserve. */
  private static MemoryGovernor sixteenWithReserve(Duration timeout) {
    return new MemoryGovernor(
        16 * MB, 16 * MB, new MemoryGovernor.Admission(0, 0, timeout), 4 * MB);
  }

  /** 16 MB with a 2 MB server margin; a wait for room lasts at most {@code timeout}. */
  private static MemoryGovernor sixteen(Duration timeout) {
    return new MemoryGovernor(16 * MB, 16 * MB, new MemoryGovernor.Admission(0, 0, timeout));
  }

  @Test
  void aStreamWaitsForRoomBeforeItsNextBatchUntilAnotherCallReleases() throws Exception {
    try (MemoryGovernor governor = sixteen(Duration.ofMinutes(5));
        BufferAllocator other = governor.newCallAllocator("DoPut ns.other");
        AutoCloseable held = hold(other, 8 * MB, 4 * MB, 2 * MB)) {
      ArrowBuf one = other.buffer(MB);
      assertThat(governor.hasRoom()).as("1 MB left, under the 2 MB margin").isFalse();
      CompletableFuture<Void> stream =
          CompletableFuture.runAsync(() -> governor.awaitRoom("DoGet ns.t", () -> false));
      Await.until(() -> governor.roomWaits().waiting() == 1, "the stream to wait for room");
      assertThat(stream).isNotDone();

      one.close();

      stream.get(30, TimeUnit.SECONDS);
      MemoryWaits.Status waits = governor.roomWaits();
      assertThat(waits.waiting()).isZero();
      assertThat(waits.waits()).isEqualTo(1);
      assertThat(waits.refused()).isZero();
    }
  }

  @Test
  void aStreamThatFindsNoRoomInTimeFailsNamingTheTimeout() throws Exception {
    try (MemoryGovernor governor = sixteen(Duration.ofMillis(50));
        BufferAllocator other = governor.newCallAllocator("DoPut ns.other");
        AutoCloseable held = hold(other, 8 * MB, 4 * MB, 2 * MB, MB)) {
      assertThatThrownBy(() -> governor.awaitRoom("DoGet ns.t", () -> false))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.SERVER_MEMORY_EXHAUSTED))
          .hasMessage(
              "DoGet ns.t: the server's Arrow memory is exhausted (15.0 MB of 16.0 MB in use,"
                  + " memory.total); waited 50 ms (memory.admission-timeout) for 2.0 MB to be"
                  + " free before its next batch");
      assertThat(governor.roomWaits().refused()).isEqualTo(1);
      assertThat(governor.report().recentHits())
          .extracting(MemoryReport.LimitHit::name, MemoryReport.LimitHit::limitKey)
          .containsExactly(tuple("DoGet ns.t", "memory.admission-timeout"));
    }
  }

  @Test
  void aStreamWaitingForRoomStopsWhenCancelled() throws Exception {
    try (MemoryGovernor governor = sixteen(Duration.ofMinutes(5));
        BufferAllocator other = governor.newCallAllocator("DoPut ns.other");
        AutoCloseable held = hold(other, 8 * MB, 4 * MB, 2 * MB, MB)) {
      AtomicBoolean cancelled = new AtomicBoolean();
      CompletableFuture<Void> stream =
          CompletableFuture.runAsync(() -> governor.awaitRoom("DoGet ns.t", cancelled::get));
      Await.until(() -> governor.roomWaits().waiting() == 1, "the stream to wait for room");

      cancelled.set(true);
      governor.wakeRoomWaiters();

      stream.get(30, TimeUnit.SECONDS);
      assertThat(governor.roomWaits().refused()).isZero();
    }
  }

  @Test
  void aCallsAllocationThatFindsTheBudgetFullWaitsForAnotherCallToRelease() throws Exception {
    try (MemoryGovernor governor = sixteen(Duration.ofMinutes(5));
        BufferAllocator other = governor.newNativeCallAllocator("DoPut ns.other");
        BufferAllocator call = governor.newNativeCallAllocator("DoGet ns.t");
        AutoCloseable held = hold(other, 8 * MB, 4 * MB)) {
      ArrowBuf two = other.buffer(2 * MB);
      CompletableFuture<ArrowBuf> allocation =
          CompletableFuture.supplyAsync(() -> call.buffer(4 * MB));
      Await.until(() -> governor.roomWaits().waiting() == 1, "the allocation to wait for room");
      assertThat(allocation).isNotDone();

      two.close();

      try (ArrowBuf taken = allocation.get(30, TimeUnit.SECONDS)) {
        assertThat(taken.capacity()).isEqualTo(4 * MB);
      }
      assertThat(governor.roomWaits().waits()).isEqualTo(1);
    }
  }

  @Test
  void aCallsAllocationThatCannotFitEvenAloneFailsAtOnce() {
    try (MemoryGovernor governor = sixteenWithReserve(Duration.ofMinutes(5));
        BufferAllocator call = governor.newNativeCallAllocator("DoGet ns.t")) {
      // Calls may hold 12 MB together (the rest is the transport's reserve): 16 MB never fits.
      assertThatThrownBy(() -> call.buffer(16 * MB))
          .isInstanceOf(OutOfMemoryException.class)
          .hasMessageContaining("Unable to allocate buffer of size");
      assertThat(governor.roomWaits().waits()).isZero();
    }
  }

  @Test
  void aTransportReserveOverHalfTheTotalIsRefused() {
    assertThatThrownBy(() -> new MemoryGovernor(16 * MB, MB, MemoryGovernor.Admission.NONE, 9 * MB))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("half of the total");
  }

  /** Room for two calls of 1 MB reservation each, queue of two, waits long enough for a test. */
  private static MemoryGovernor twoCalls(int queue, Duration timeout) {
    return new MemoryGovernor(2 * MB, MB, new MemoryGovernor.Admission(MB, queue, timeout));
  }

  @Test
  void callsThatCannotReserveWaitAndAreAdmittedInArrivalOrder() throws Exception {
    try (MemoryGovernor governor = twoCalls(2, Duration.ofMinutes(5))) {
      BufferAllocator first = governor.newCallAllocator("first");
      BufferAllocator second = governor.newCallAllocator("second");
      assertThat(governor.allocated()).isEqualTo(2 * MB);
      List<String> admitted = new CopyOnWriteArrayList<>();
      List<BufferAllocator> held = new CopyOnWriteArrayList<>();
      Thread third = waiter(governor, "third", admitted, held);
      awaitQueued(governor, 1);
      Thread fourth = waiter(governor, "fourth", admitted, held);
      awaitQueued(governor, 2);

      first.close();
      awaitAdmitted(admitted, 1);
      assertThat(admitted).containsExactly("third");
      second.close();
      Await.join(third);
      Await.join(fourth);
      assertThat(admitted).containsExactly("third", "fourth");
      assertThat(governor.report().waits()).isEqualTo(2);
      held.forEach(BufferAllocator::close);
      assertThat(governor.allocated()).isZero();
    }
  }

  @Test
  void aFullQueueRefusesAtOnceNamingTheLimitAndTheUse() throws Exception {
    try (MemoryGovernor governor = twoCalls(1, Duration.ofMinutes(5))) {
      BufferAllocator first = governor.newCallAllocator("first");
      BufferAllocator second = governor.newCallAllocator("second");
      List<String> admitted = new CopyOnWriteArrayList<>();
      List<BufferAllocator> held = new CopyOnWriteArrayList<>();
      Thread third = waiter(governor, "third", admitted, held);
      awaitQueued(governor, 1);

      assertThatThrownBy(() -> governor.newCallAllocator("DoGet ns.fourth"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> {
                assertThat(e.code()).isEqualTo(QuiverErrorCode.SERVER_MEMORY_EXHAUSTED);
                assertThat(e.toFlight().status().code())
                    .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
              })
          .hasMessage(
              "DoGet ns.fourth: the server's Arrow memory is exhausted (2.0 MB of 2.0 MB in use,"
                  + " memory.total; each call reserves 1.0 MB, memory.call-reservation); the"
                  + " admission queue is full (memory.admission-queue = 1)");
      first.close();
      Await.join(third);
      assertThat(admitted).containsExactly("third");
      second.close();
      held.forEach(BufferAllocator::close);
      assertThat(governor.allocated()).isZero();
      assertThat(governor.report().refused()).isEqualTo(1);
    }
  }

  @Test
  void aWaitingCallIsRefusedAfterTheAdmissionTimeout() {
    try (MemoryGovernor governor = twoCalls(4, Duration.ofMillis(200));
        BufferAllocator first = governor.newCallAllocator("first");
        BufferAllocator second = governor.newCallAllocator("second")) {
      assertThatThrownBy(() -> governor.newCallAllocator("DoPut ns.late"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> {
                assertThat(e.code()).isEqualTo(QuiverErrorCode.SERVER_MEMORY_EXHAUSTED);
                assertThat(e.toFlight().status().code())
                    .isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
              })
          .hasMessage(
              "DoPut ns.late: the server's Arrow memory is exhausted (2.0 MB of 2.0 MB in use,"
                  + " memory.total; each call reserves 1.0 MB, memory.call-reservation); waited"
                  + " 200 ms (memory.admission-timeout)");
      assertThat(governor.queued()).isZero();
      MemoryReport report = governor.report();
      assertThat(report.recentHits())
          .extracting(MemoryReport.LimitHit::name, MemoryReport.LimitHit::limitKey)
          .containsExactly(tuple("DoPut ns.late", "memory.admission-timeout"));
      assertThat(report.recommendations())
          .containsExactly(
              "1 call waited past memory.admission-timeout for memory in the last hour; raise"
                  + " memory.total, or run fewer calls at once",
              "Arrow memory is 100% used (2.0 MB of 2.0 MB); new calls will queue for admission");
    }
  }

  @Test
  void importsAreNeverRefusedAndCountAgainstACallOnceItTakesThemOver() {
    try (MemoryGovernor governor = new MemoryGovernor(4 * MB, 4 * MB)) {
      try (BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
          BufferAllocator imports = governor.newImportAllocator("DoGet ns.t");
          ArrowBuf filler = call.buffer(3 * MB)) {
        assertThat(imports.getName()).isEqualTo("DoGet ns.t (C Data import)");
        long budgetUsed = governor.allocated();
        // The budget has at most 1 MB left; an import of 2 MB must not be refused halfway.
        ArrowBuf imported = imports.buffer(2 * MB);
        assertThat(governor.importing()).isEqualTo(2 * MB);
        assertThat(governor.allocated()).as("imports are outside the budget").isEqualTo(budgetUsed);
        // Taking it over charges the call (over its limit: the between-batches check catches it).
        ArrowBuf taken =
            imported.getReferenceManager().transferOwnership(imported, call).getTransferredBuffer();
        imported.close();
        assertThat(governor.importing()).isZero();
        assertThat(call.getAllocatedMemory()).isGreaterThanOrEqualTo(5 * MB);
        assertThatThrownBy(() -> governor.checkQueryLimit("DoGet ns.t", call))
            .isInstanceOf(QuiverException.class);
        taken.close();
      }
      assertThat(governor.allocated()).isZero();
      assertThat(governor.importing()).isZero();
    }
  }

  @Test
  void reportListsLiveCallsLimitsAndAdvice() {
    try (MemoryGovernor governor = new MemoryGovernor(64 * MB, 4 * MB);
        BufferAllocator call = governor.newCallAllocator("DoGet sales.orders")) {
      try (ArrowBuf buffer = call.buffer(MB)) {
        governor.exceeded("DoGet sales.orders", null);
        governor.exceeded("DoGet sales.orders", null);
        MemoryReport report = governor.report();
        assertThat(report.total()).isEqualTo(64 * MB);
        assertThat(report.queryLimit()).isEqualTo(4 * MB);
        assertThat(report.allocated()).isEqualTo(MB);
        assertThat(report.peak()).isEqualTo(MB);
        assertThat(report.pressure()).isEqualTo(1.0 / 64);
        assertThat(report.calls())
            .singleElement()
            .satisfies(
                c -> {
                  assertThat(c.name()).isEqualTo("DoGet sales.orders");
                  assertThat(c.allocated()).isEqualTo(MB);
                  assertThat(c.limit()).isEqualTo(4 * MB);
                });
        assertThat(report.recommendations())
            .containsExactly(
                "2 calls hit memory.query-limit (4.0 MB) in the last hour; raise"
                    + " memory.query-limit or lower scan.batch-rows");
      }
    }
  }

  @Test
  void reportWithoutHitsSaysNothingToChange() {
    try (MemoryGovernor governor = new MemoryGovernor(64 * MB, 4 * MB)) {
      assertThat(governor.report().recommendations())
          .containsExactly("No memory limit was hit in the last hour; nothing to change");
      assertThat(governor.report().calls()).isEmpty();
    }
  }

  @Test
  void theReportKeepsOnlyTheLastHits() {
    try (MemoryGovernor governor = new MemoryGovernor(64 * MB, 4 * MB)) {
      for (int i = 0; i < MemoryGovernor.RECENT_HITS + 5; i++) {
        governor.exceeded("DoGet ns.t" + i, null);
      }
      List<MemoryReport.LimitHit> hits = governor.report().recentHits();
      assertThat(hits).hasSize(MemoryGovernor.RECENT_HITS);
      assertThat(hits.get(hits.size() - 1).name())
          .isEqualTo("DoGet ns.t" + (MemoryGovernor.RECENT_HITS + 4));
    }
  }

  private static Thread waiter(
      MemoryGovernor governor, String name, List<String> admitted, List<BufferAllocator> held) {
    Thread thread =
        new Thread(
            () -> {
              held.add(governor.newCallAllocator(name));
              admitted.add(name);
            },
            name);
    thread.start();
    return thread;
  }

  private static void awaitQueued(MemoryGovernor governor, int n) throws InterruptedException {
    Await.until(() -> governor.queued() == n, "queue length " + n);
  }

  private static void awaitAdmitted(List<String> admitted, int n) throws InterruptedException {
    Await.until(() -> admitted.size() == n, n + " admitted");
  }
}
