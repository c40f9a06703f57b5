package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.testing.Await;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SqlTurnsTest {
  private static final Duration LONG = Duration.ofSeconds(30);
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void queriesBeyondTheSlotsWaitTheirTurnInOrder() throws Exception {
    SqlTurns admission = new SqlTurns(1, new AdmissionQueue(4, LONG));
    SqlTurns.Turn first = admission.take("DoGet 1", () -> false);
    CompletableFuture<SqlTurns.Turn> second = admitLater(admission, "DoGet 2", () -> false);
    Await.until(() -> admission.status().queued() == 1, "1 queued");
    CompletableFuture<SqlTurns.Turn> third = admitLater(admission, "DoGet 3", () -> false);
    Await.until(() -> admission.status().queued() == 2, "2 queued");

    first.close();
    first.close(); // a second release gives nothing back twice
    SqlTurns.Turn secondRelease = second.get(10, TimeUnit.SECONDS);

    assertThat(third).isNotDone();
    assertThat(admission.status()).isEqualTo(new SqlTurns.Status(1, 1, 1, 2, 0));
    secondRelease.close();
    third.get(10, TimeUnit.SECONDS).close();
    assertThat(admission.status().running()).isZero();
  }

  @Test
  void aFullLineRefusesAtOnceNamingTheKey() {
    SqlTurns admission = new SqlTurns(2, new AdmissionQueue(0, LONG));
    admission.take("SQL 1", () -> false);
    admission.take("SQL 2", () -> false);

    assertThatThrownBy(() -> admission.take("DoGet 3 sales.orders", () -> false))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.toFlight().status().code().name()).isEqualTo("RESOURCE_EXHAUSTED"))
        .hasMessageContaining("DoGet 3 sales.orders")
        .hasMessageContaining("running 2 of sql.max-concurrent-queries = 2 queries")
        .hasMessageContaining("memory.admission-queue");
    assertThat(admission.status().refused()).isEqualTo(1);
  }

  @Test
  void aWaitPastTheTimeoutIsRefused() {
    SqlTurns admission = new SqlTurns(1, new AdmissionQueue(4, Duration.ofMillis(50)));
    admission.take("SQL 1", () -> false);

    assertThatThrownBy(() -> admission.take("SQL 2", () -> false))
        .isInstanceOf(QuiverException.class)
        .hasMessageContaining("waited 50 ms (memory.admission-timeout)");
    assertThat(admission.status()).isEqualTo(new SqlTurns.Status(1, 1, 0, 1, 1));
  }

  @Test
  void aCancelledWaiterLeavesTheLine() throws Exception {
    SqlTurns admission = new SqlTurns(1, new AdmissionQueue(4, LONG));
    SqlTurns.Turn first = admission.take("SQL 1", () -> false);
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<SqlTurns.Turn> waiting = admitLater(admission, "SQL 2", cancelled::get);
    Await.until(() -> admission.status().queued() == 1, "1 queued");

    cancelled.set(true);
    admission.wake();

    assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(QuiverException.class)
        .hasMessageContaining("SQL 2 was cancelled while waiting to run");
    assertThat(admission.status().queued()).isZero();
    first.close();
    assertThat(admission.status().running()).isZero();
  }

  private CompletableFuture<SqlTurns.Turn> admitLater(
      SqlTurns admission, String name, java.util.function.BooleanSupplier cancelled) {
    return CompletableFuture.supplyAsync(() -> admission.take(name, cancelled), threads);
  }
}
