package dev.quiver.server.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.AdmissionQueue.Outcome;
import dev.quiver.server.memory.AdmissionQueue.Resource;
import dev.quiver.testing.Await;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {
  private static final Duration LONG = Duration.ofSeconds(30);
  private static final Set<Resource> MEMORY = EnumSet.of(Resource.MEMORY);
  private static final Set<Resource> MEMORY_AND_TURN =
      EnumSet.of(Resource.MEMORY, Resource.SQL_TURN);
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aNewcomerNeverTakesWhatAnEarlierWaiterWaitsFor() throws Exception {
    AdmissionQueue line = new AdmissionQueue(4, LONG);
    AtomicBoolean memoryFree = new AtomicBoolean();
    CompletableFuture<String> first =
        admitLater(line, "first", MEMORY, () -> memoryFree.get() ? ok("first") : memory());
    Await.until(() -> line.queued() == 1, "the first call to wait");
    AtomicInteger newcomerTries = new AtomicInteger();
    CompletableFuture<String> newcomer =
        admitLater(
            line,
            "newcomer",
            MEMORY,
            () -> {
              newcomerTries.incrementAndGet();
              return ok("newcomer"); // it would fit: it must still wait its turn
            });
    Await.until(() -> line.queued() == 2, "the newcomer to wait behind it");
    assertThat(newcomerTries).hasValue(0);

    memoryFree.set(true);
    line.released();

    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("first");
    assertThat(newcomer.get(10, TimeUnit.SECONDS)).isEqualTo("newcomer");
    assertThat(line.status(Resource.MEMORY)).isEqualTo(new AdmissionQueue.Status(0, 2, 0));
  }

  @Test
  void aCallThatNeedsOnlyMemoryPassesOneWaitingForASqlTurn() throws Exception {
    AdmissionQueue line = new AdmissionQueue(4, LONG);
    CompletableFuture<String> scan =
        admitLater(line, "scan", MEMORY_AND_TURN, () -> Outcome.shortOf(Resource.SQL_TURN));
    Await.until(() -> line.status(Resource.SQL_TURN).queued() == 1, "the scan to wait");

    String put = line.admit("put", MEMORY, () -> ok("put"), () -> false, AdmissionQueueTest::no);

    assertThat(put).isEqualTo("put");
    assertThat(scan).isNotDone();
    // A second scan needs the turn the first one waits for: it waits behind it, untried.
    AtomicInteger secondTries = new AtomicInteger();
    CompletableFuture<String> second =
        admitLater(
            line,
            "second scan",
            MEMORY_AND_TURN,
            () -> {
              secondTries.incrementAndGet();
              return ok("second");
            });
    Await.until(() -> line.status(Resource.SQL_TURN).queued() == 2, "the second scan to wait");
    assertThat(secondTries).hasValue(0);
    assertThat(second).isNotDone();
  }

  @Test
  void aFullLineRefusesAtOnceAndAWaitEndsAtItsOneDeadline() {
    AdmissionQueue full = new AdmissionQueue(0, LONG);
    assertThatThrownBy(
            () -> full.admit("DoGet t", MEMORY, AdmissionQueueTest::memory, () -> false, this::key))
        .isInstanceOf(QuiverException.class)
        .hasMessage("DoGet t short of MEMORY, ended by memory.admission-queue");

    AdmissionQueue quick = new AdmissionQueue(4, Duration.ofMillis(50));
    long started = System.nanoTime();
    assertThatThrownBy(
            () ->
                quick.admit(
                    "DoGet t",
                    MEMORY_AND_TURN,
                    () -> Outcome.shortOf(Resource.SQL_TURN),
                    () -> false,
                    this::key))
        .isInstanceOf(QuiverException.class)
        .hasMessage("DoGet t short of SQL_TURN, ended by memory.admission-timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(LONG);
    assertThat(quick.status(Resource.SQL_TURN)).isEqualTo(new AdmissionQueue.Status(0, 1, 1));
  }

  @Test
  void aCancelledWaiterLeavesTheLine() throws Exception {
    AdmissionQueue line = new AdmissionQueue(4, LONG);
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<String> waiting =
        CompletableFuture.supplyAsync(
            () ->
                line.admit("SQL 2", MEMORY, AdmissionQueueTest::memory, cancelled::get, this::key),
            threads);
    Await.until(() -> line.queued() == 1, "1 queued");

    cancelled.set(true);
    line.wake();

    assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(QuiverException.class)
        .hasMessageContaining("SQL 2 was cancelled while waiting to run");
    assertThat(line.queued()).isZero();
  }

  private QuiverException key(Resource shortOf, String limitKey) {
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        "DoGet t short of %s, ended by %s",
        shortOf,
        limitKey);
  }

  private static QuiverException no(Resource shortOf, String limitKey) {
    throw new AssertionError("refused: " + shortOf + " " + limitKey);
  }

  private static Outcome<String> ok(String value) {
    return Outcome.admitted(value);
  }

  private static Outcome<String> memory() {
    return Outcome.shortOf(Resource.MEMORY);
  }

  private CompletableFuture<String> admitLater(
      AdmissionQueue line, String name, Set<Resource> needs, AdmissionQueue.Attempt<String> try_) {
    return CompletableFuture.supplyAsync(
        () -> line.admit(name, needs, try_, () -> false, AdmissionQueueTest::no), threads);
  }
}
