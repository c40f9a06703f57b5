package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverActions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Big SQL results through the JDBC driver against a server whose per-call limit is far below the
 * result's size: the rows must stream with backpressure, not gather in the server, and cancelling
 * must stop the server's work.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SqlJdbcStreamingIT {
  private static final String QUERY_LIMIT = "32MB";
  private static final long QUERY_LIMIT_BYTES = 32L << 20;

  @TempDir static Path dataDir;
  private static QuiverServerProcess server;

  @BeforeAll
  static void start() {
    server = QuiverServerProcess.start(dataDir, "--memory.query-limit", QUERY_LIMIT);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static void putTables(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path("big", "million"), 0, 1_000_000);
      FlightTables.put(client, allocator, FlightDescriptor.path("big", "ten"), 0, 10);
    }
  }

  @Test
  void tenMillionRowsStreamWithinTheQueryLimit(BufferAllocator allocator) throws Exception {
    putTables(allocator);
    long rows = 0;
    long idSum = 0;
    try (Connection connection = SqlJdbcIT.connect(server, "");
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery(
                "SELECT a.id, a.name, a.amount, b.id AS k, a.id * 2 AS twice"
                    + " FROM big.million a, big.ten b")) {
      while (rs.next()) {
        rows++;
        idSum += rs.getLong(1);
      }
    }
    assertThat(rows).isEqualTo(10_000_000L);
    assertThat(idSum).isEqualTo(10L * (999_999L * 1_000_000L / 2));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      JsonNode report = FlightTables.action(client, QuiverActions.MEMORY_REPORT, Map.of());
      // A result gathered in the server would have been refused at memory.query-limit; the peak
      // of all calls together stays within a few batches of it.
      assertThat(report.path("limit_hits")).isEmpty();
      // The root's peak counts Flight's transport reserve, reserved at start-up and never taken
      // by calls (see MemoryGovernor), so it is left out.
      long reserve = report.path("limits").path("memory.transport-reserve").asLong();
      assertThat(report.path("peak").asLong() - reserve).isLessThan(2 * QUERY_LIMIT_BYTES);
    }
  }

  @Test
  void cancelStopsTheServerSideQuery(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path("cancel", "rows"), 0, 100_000);
      try (Connection connection = SqlJdbcIT.connect(server, "");
          Statement statement = connection.createStatement()) {
        // 10^10 rows: far more than the test waits for.
        ResultSet rs =
            statement.executeQuery("SELECT a.id, b.id FROM cancel.rows a, cancel.rows b");
        assertThat(rs.next()).isTrue();
        assertThat(sqlCalls(client)).hasSize(1);

        statement.cancel();

        awaitNoSqlCalls(client);
        // Avatica keeps a cancelled statement cancelled; the connection takes new ones.
        try (Statement again = connection.createStatement();
            ResultSet count = again.executeQuery("SELECT count(*) FROM cancel.rows")) {
          assertThat(count.next()).isTrue();
          assertThat(count.getLong(1)).isEqualTo(100_000);
        }
      }
    }
  }

  @Test
  void cancelStopsAQueryBeforeItsFirstRow(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        Connection connection = SqlJdbcIT.connect(server, "");
        Statement statement = connection.createStatement()) {
      // DuckDB computes for a long time before this aggregate has its one row.
      CompletableFuture<Long> running =
          CompletableFuture.supplyAsync(
              () -> {
                try (ResultSet rs =
                    statement.executeQuery("SELECT count(*) FROM range(100000000000) t(i)")) {
                  rs.next();
                  return rs.getLong(1);
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      awaitSqlCall(client);

      statement.cancel();

      // The driver cancels its DoGet stream; the server sees the call cancelled and interrupts
      // DuckDB, which the report below shows.
      assertThatThrownBy(() -> running.get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IllegalStateException.class)
          .hasStackTraceContaining("CANCELLED")
          .hasMessageContaining("Cancelling this FlightStream");
      awaitNoSqlCalls(client);
    }
  }

  private static List<String> sqlCalls(FlightClient client) {
    JsonNode report = FlightTables.action(client, QuiverActions.MEMORY_REPORT, Map.of());
    List<String> names = new ArrayList<>();
    report
        .path("calls")
        .forEach(
            call -> {
              if (call.path("name").asText().startsWith("SQL ")) {
                names.add(call.path("name").asText());
              }
            });
    return names;
  }

  private static void awaitSqlCall(FlightClient client) throws InterruptedException {
    await(client, () -> !sqlCalls(client).isEmpty(), "a running SQL call");
  }

  private static void awaitNoSqlCalls(FlightClient client) throws InterruptedException {
    await(client, () -> sqlCalls(client).isEmpty(), "no running SQL call");
  }

  private static void await(
      FlightClient client, java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out waiting for " + what + ": " + sqlCalls(client));
      }
      TimeUnit.MILLISECONDS.sleep(50); // polling the server's report, not waiting for a guess
    }
  }
}
