package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverException;
import dev.quiver.testing.Await;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SqlAdmissionTest {
  private static final Duration LONG = Duration.ofSeconds(30);
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void queriesBeyondTheSlotsWaitTheirTurnInOrder() throws Exception {
    SqlAdmission admission = new SqlAdmission(new SqlAdmission.Settings(1, 4, LONG));
    Runnable first = admission.admit("DoGet 1", () -> false);
    CompletableFuture<Runnable> second = admitLater(admission, "DoGet 2", () -> false);
    Await.until(() -> admission.status().queued() == 1, "1 queued");
    CompletableFuture<Runnable> third = admitLater(admission, "DoGet 3", () -> false);
    Await.until(() -> admission.status().queued() == 2, "2 queued");

    first.run();
    first.run(); // a second release gives nothing back twice
    Runnable secondRelease = second.get(10, TimeUnit.SECONDS);

    assertThat(third).isNotDone();
    assertThat(admission.status()).isEqualTo(new SqlAdmission.Status(1, 1, 1, 2, 0));
    secondRelease.run();
    third.get(10, TimeUnit.SECONDS).run();
    assertThat(admission.status().running()).isZero();
  }

  @Test
  void aFullLineRefusesAtOnceNamingTheKey() {
    SqlAdmission admission = new SqlAdmission(new SqlAdmission.Settings(2, 0, LONG));
    admission.admit("SQL 1", () -> false);
    admission.admit("SQL 2", () -> false);

    assertThatThrownBy(() -> admission.admit("DoGet 3 sales.orders", () -> false))
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
    SqlAdmission admission =
        new SqlAdmission(new SqlAdmission.Settings(1, 4, Duration.ofMillis(50)));
    admission.admit("SQL 1", () -> false);

    assertThatThrownBy(() -> admission.admit("SQL 2", () -> false))
        .isInstanceOf(QuiverException.class)
        .hasMessageContaining("waited 50 ms (memory.admission-timeout)");
    assertThat(admission.status()).isEqualTo(new SqlAdmission.Status(1, 1, 0, 1, 1));
  }

  @Test
  void aCancelledWaiterLeavesTheLine() throws Exception {
    SqlAdmission admission = new SqlAdmission(new SqlAdmission.Settings(1, 4, LONG));
    Runnable first = admission.admit("SQL 1", () -> false);
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<Runnable> waiting = admitLater(admission, "SQL 2", cancelled::get);
    Await.until(() -> admission.status().queued() == 1, "1 queued");

    cancelled.set(true);
    admission.wake();

    assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(QuiverException.class)
        .hasMessageContaining("SQL 2 was cancelled while waiting to run");
    assertThat(admission.status().queued()).isZero();
    first.run();
    assertThat(admission.status().running()).isZero();
  }

  private CompletableFuture<Runnable> admitLater(
      SqlAdmission admission, String name, java.util.function.BooleanSupplier cancelled) {
    return CompletableFuture.supplyAsync(() -> admission.admit(name, cancelled), threads);
  }
}
