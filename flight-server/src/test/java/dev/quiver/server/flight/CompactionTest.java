package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import dev.quiver.client.QuiverActions;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.maintenance.MaintenanceTask;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The compact-table action and compaction in the maintenance policy. */
@ExtendWith(ArrowAllocatorExtension.class)
class CompactionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");
  private static final String BODY = "{\"namespace\": \"ns\", \"table\": \"t\"}";

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
  }

  @Test
  void compactTableRewritesSmallFilesIntoOneAndKeepsEveryRow(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 40; i++) {
        IdTable.put(client, allocator, TABLE, i * 100L, 100);
      }
      long before = snapshotId(client);
      long scanBefore = timeScan(client, TABLE);

      JsonNode result = action(client, QuiverActions.COMPACT_TABLE, BODY);

      long scanAfter = timeScan(client, TABLE);
      System.out.printf(
          "Compaction: %s; full scan %d us before, %d us after%n", result, scanBefore, scanAfter);
      assertThat(result.get("table").asText()).isEqualTo("ns.t");
      assertThat(result.get("files_before").asInt()).isEqualTo(40);
      assertThat(result.get("files_rewritten").asInt()).isEqualTo(40);
      assertThat(result.get("files_added").asInt()).isEqualTo(1);
      assertThat(result.get("rows").asLong()).isEqualTo(4000);
      assertThat(result.get("bytes_added").asLong())
          .isLessThan(result.get("bytes_rewritten").asLong());
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(4000));
      assertThat(client.getInfo(TABLE).getRecords()).isEqualTo(4000);
      // The snapshot before still reads (its files stay until it expires).
      assertThat(IdTable.sumOfIds(client, at(before))).isEqualTo(IdTable.sum(4000));

      JsonNode again = action(client, QuiverActions.COMPACT_TABLE, BODY);
      assertThat(again.get("files_before").asInt()).isEqualTo(1);
      assertThat(again.get("files_rewritten").asInt()).isZero();
    }
  }

  @Test
  void compactionDuringConcurrentAppendsLosesNoRow(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 10; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      int puts = 80;
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int n = 10; n < puts; n++) {
                    IdTable.put(client, allocator, TABLE, n, 1);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      int compactions = 0;
      long rewritten = 0;
      while (!writer.isDone()) {
        rewritten +=
            action(client, QuiverActions.COMPACT_TABLE, BODY).get("files_rewritten").asLong();
        compactions++;
      }
      writer.get(60, TimeUnit.SECONDS);
      assertThat(compactions).as("compactions run while the puts ran").isGreaterThan(1);
      assertThat(rewritten).isPositive();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(puts));

      JsonNode last = action(client, QuiverActions.COMPACT_TABLE, BODY);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(puts));
      assertThat(
              last.get("files_before").asInt()
                  - last.get("files_rewritten").asInt()
                  + last.get("files_added").asInt())
          .as("data files left")
          .isEqualTo(1);
    }
  }

  @Test
  void thePolicyCompactsPastMinFilesThenExpiresTheOldFiles(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 20; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      MaintenanceTask.RunReport first = server.maintenance().runOnce(Instant.now());
      assertThat(first.tablesCompacted()).isEqualTo(1);
      assertThat(first.filesCompacted()).isEqualTo(20);
      assertThat(first.snapshotsExpired()).as("all current within expire-after").isZero();
      assertThat(dataFiles()).as("replaced files stay while young").hasSize(21);

      // The replaced files go once no kept snapshot reaches them: past expire-after, and once
      // retain-last (10) newer snapshots exist.
      for (int i = 20; i < 30; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      MaintenanceTask.RunReport later =
          server.maintenance().runOnce(Instant.now().plus(Duration.ofMinutes(16)));
      assertThat(later.tablesCompacted()).as("10 small files, under 16").isZero();
      assertThat(later.snapshotsExpired()).isEqualTo(20 + 1 + 10 - 10);
      assertThat(dataFiles()).as("the compacted file and the 10 new ones").hasSize(11);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(30));
    }
  }

  @Test
  void theScheduledPolicyCompactsByItself(BufferAllocator allocator) throws Exception {
    servers.stop(server);
    server =
        servers.start(
            dataDir,
            "memory.total",
            "256MB",
            "maintenance.enabled",
            "true",
            "maintenance.interval",
            "200ms",
            "maintenance.compact-min-files",
            "4");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 6; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      // The timer's compaction is a "replace" snapshot (it may run before all six puts are in).
      Await.until(
          () -> operations(client).contains("replace"), "the timer's compaction of small files");
      assertThat(server.maintenance().runs()).isPositive();
      assertThat(server.maintenance().errors()).isZero();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(6));
    }
  }

  @Test
  void badBodiesNameTheProblem(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThatThrownBy(
              () ->
                  action(
                      client,
                      QuiverActions.COMPACT_TABLE,
                      "{\"namespace\": \"ns\", \"table\": \"nope\"}"))
          .isInstanceOf(FlightRuntimeException.class)
          .satisfies(
              e ->
                  assertThat(((FlightRuntimeException) e).status().code())
                      .isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table ns.nope does not exist");
      assertThatThrownBy(() -> action(client, QuiverActions.COMPACT_TABLE, ""))
          .isInstanceOf(FlightRuntimeException.class)
          .satisfies(
              e ->
                  assertThat(((FlightRuntimeException) e).status().code())
                      .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("Action compact-table needs a JSON body");
    }
  }

  private java.util.List<Path> dataFiles() {
    try (java.util.stream.Stream<Path> files =
        java.nio.file.Files.walk(dataDir.resolve("warehouse"))) {
      return files.filter(p -> p.toString().endsWith(".parquet")).toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The operations of the table's snapshots, oldest first. */
  private static java.util.List<String> operations(FlightClient client) {
    try {
      java.util.List<String> ops = new java.util.ArrayList<>();
      action(client, QuiverActions.LIST_SNAPSHOTS, BODY)
          .get("snapshots")
          .forEach(s -> ops.add(s.get("operation").asText()));
      return ops;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static FlightDescriptor at(long snapshotId) {
    ScanCommand scan =
        ScanCommand.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace("ns").setName("t"))
            .setSnapshotId(snapshotId)
            .build();
    return FlightDescriptor.command(Any.pack(scan).toByteArray());
  }

  private static long snapshotId(FlightClient client) throws Exception {
    return action(client, QuiverActions.LIST_SNAPSHOTS, BODY).get("current_snapshot_id").asLong();
  }

  /** Microseconds for the best of three full scans. */
  private static long timeScan(FlightClient client, FlightDescriptor table) throws Exception {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      IdTable.sumOfIds(client, table);
      best = Math.min(best, (System.nanoTime() - start) / 1000);
    }
    return best;
  }

  private static JsonNode action(FlightClient client, String type, String body) throws Exception {
    Iterator<Result> results =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    JsonNode json = JSON.readTree(results.next().getBody());
    results.forEachRemaining(r -> {});
    return json;
  }
}
