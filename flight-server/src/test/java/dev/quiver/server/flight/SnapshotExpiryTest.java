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
import dev.quiver.server.table.LocalFileIO;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot expiry and metadata cleanup: the expire-snapshots action and the background maintenance
 * policy keep a table's metadata small and its rows intact.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SnapshotExpiryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");
  private static final String BODY = "{\"namespace\": \"ns\", \"table\": \"t\"";

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    // The policy's timer is off here; tests run it directly.
    server = servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void defaultPolicyKeepsTheMetadataFolderSmallAfterManyOneRowPuts(BufferAllocator allocator)
      throws Exception {
    int puts = Integer.getInteger("quiver.test.expiry-puts", 300);
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      long started = System.nanoTime();
      for (int i = 0; i < puts; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      long putMillis = (System.nanoTime() - started) / 1_000_000;
      Path metadata = tableFolder().resolve("metadata");
      long before = bytes(metadata);
      long filesBefore = count(metadata);

      // As if maintenance.expire-after had passed since the last put.
      MaintenanceTask.RunReport run =
          server.maintenance().runOnce(Instant.now().plus(Duration.ofMinutes(16)));

      long after = bytes(metadata);
      System.out.printf(
          "%d one-row puts in %d ms: metadata folder %d bytes (%d files) before the maintenance"
              + " run, %d bytes (%d files) after; run %s%n",
          puts, putMillis, before, filesBefore, after, count(metadata), run);
      assertThat(run.tables()).isEqualTo(1);
      assertThat(run.errors()).isZero();
      assertThat(run.tablesCompacted()).isEqualTo(1);
      assertThat(run.filesCompacted()).isEqualTo(puts);
      // The compaction's commit is one more snapshot.
      assertThat(run.snapshotsExpired()).isEqualTo(puts + 1 - 10);
      assertThat(run.filesDeleted()).isPositive();
      assertThat(after).isLessThan(5L << 20);
      assertThat(metadataJsonFiles(metadata))
          .as("the log trimmed after expiry")
          .isLessThanOrEqualTo(3);
      assertThat(snapshots(client)).hasSize(10);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(puts));
      assertThat(server.maintenance().snapshotsExpired()).isEqualTo(puts + 1 - 10);
    }
  }

  @Test
  void expireSnapshotsKeepsTheLastAndTheRows(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 12; i++) {
        IdTable.put(client, allocator, TABLE, i * 10L, 10);
      }
      List<Long> all = snapshots(client);

      JsonNode result =
          action(client, BODY + ", \"older_than\": \"" + Instant.now() + "\", \"retain_last\": 4}");

      assertThat(result.get("table").asText()).isEqualTo("ns.t");
      assertThat(result.get("retain_last").asInt()).isEqualTo(4);
      assertThat(result.get("snapshots_expired").asInt()).isEqualTo(8);
      assertThat(result.get("snapshots_kept").asInt()).isEqualTo(4);
      assertThat(result.get("files_deleted").asLong()).isPositive();
      assertThat(result.get("bytes_deleted").asLong()).isPositive();
      assertThat(snapshots(client)).isEqualTo(all.subList(8, 12));
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(120));

      // Time travel to an expired snapshot names it and says why.
      ScanCommand scan =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace("ns").setName("t"))
              .setSnapshotId(all.get(0))
              .build();
      assertThatThrownBy(
              () -> client.getInfo(FlightDescriptor.command(Any.pack(scan).toByteArray())))
          .isInstanceOf(FlightRuntimeException.class)
          .satisfies(e -> assertCode(e, FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("Table ns.t has no snapshot " + all.get(0))
          .hasMessageContaining("has expired");
      // The kept ones still read.
      ScanCommand kept = scan.toBuilder().setSnapshotId(all.get(8)).build();
      assertThat(IdTable.sumOfIds(client, FlightDescriptor.command(Any.pack(kept).toByteArray())))
          .isEqualTo(IdTable.sum(90));
    }
  }

  @Test
  void snapshotsCurrentWithinExpireAfterAreKeptByDefault(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 12; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
      }
      // Defaults: older_than is maintenance.expire-after (15m) ago; these were current since.
      JsonNode result = action(client, BODY + "}");
      assertThat(result.get("snapshots_expired").asInt()).isZero();
      assertThat(result.get("retain_last").asInt()).isEqualTo(10);
      assertThat(snapshots(client)).hasSize(12);
      assertThat(server.maintenance().runOnce(Instant.now()).snapshotsExpired()).isZero();
    }
  }

  @Test
  void expiryDuringConcurrentPutsLosesNoRow(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 1);
      int puts = 60;
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  for (int n = 1; n < puts; n++) {
                    IdTable.put(client, allocator, TABLE, n, 1);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      int expiries = 0;
      long expired = 0;
      while (!writer.isDone()) {
        expired +=
            action(
                    client,
                    BODY + ", \"older_than\": \"" + Instant.now() + "\", \"retain_last\": 2}")
                .get("snapshots_expired")
                .asLong();
        expiries++;
      }
      writer.get(60, TimeUnit.SECONDS);
      assertThat(expiries).as("expiries run while the puts ran").isGreaterThan(1);
      assertThat(expired).isPositive();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(puts));
    }
  }

  @Test
  void aFailingTableIsCountedAndRetriedNextRun(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 12; i++) {
        IdTable.put(client, allocator, TABLE, i, 1);
        IdTable.put(client, allocator, FlightDescriptor.path("ns", "u"), i, 1);
      }
      // Table t's current metadata file goes missing: loading it fails.
      Path metadata = tableFolder().resolve("metadata");
      Path current = newestMetadataJson(metadata);
      Path aside = dataDir.resolve("aside.json");
      Files.move(current, aside);
      Instant later = Instant.now().plus(Duration.ofHours(1));

      MaintenanceTask.RunReport failed = server.maintenance().runOnce(later);

      assertThat(failed.tables()).isEqualTo(2);
      assertThat(failed.errors()).isEqualTo(1);
      assertThat(failed.snapshotsExpired()).as("table u still expired").isEqualTo(2);
      assertThat(server.maintenance().errors()).isEqualTo(1);

      Files.move(aside, current, StandardCopyOption.ATOMIC_MOVE);
      MaintenanceTask.RunReport retried = server.maintenance().runOnce(later);
      assertThat(retried.errors()).isZero();
      assertThat(retried.snapshotsExpired()).isEqualTo(2);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(12));
    }
  }

  @Test
  void aTableMadeBeforeMetadataCleanupGetsItAtItsNextPut(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 1);
    }
    assertThat(properties()).containsEntry("write.metadata.delete-after-commit.enabled", "true");
    servers.stop(server);
    // As an older Quiver left it: neither property.
    withTable(
        t ->
            t.updateProperties()
                .remove("write.metadata.delete-after-commit.enabled")
                .remove("write.metadata.previous-versions-max")
                .commit());
    assertThat(properties()).doesNotContainKey("write.metadata.delete-after-commit.enabled");
    server = servers.start(dataDir, "memory.total", "256MB", "maintenance.interval", "1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 1, 1);
      assertThat(properties())
          .containsEntry("write.metadata.delete-after-commit.enabled", "true")
          .containsEntry("write.metadata.previous-versions-max", "10");
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(2));
    }
  }

  @Test
  void badBodiesNameTheProblem(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 1);
      assertActionFails(
          client,
          "{\"namespace\": \"ns\", \"table\": \"nope\"}",
          FlightStatusCode.NOT_FOUND,
          "Table ns.nope does not exist");
      assertActionFails(
          client,
          BODY + ", \"older_than\": \"yesterday\"}",
          FlightStatusCode.INVALID_ARGUMENT,
          "older_than 'yesterday' is not an ISO-8601 instant");
      assertActionFails(
          client,
          BODY + ", \"retain_last\": -1}",
          FlightStatusCode.INVALID_ARGUMENT,
          "retain_last -1 must be a whole number of at least 1");
      assertActionFails(
          client,
          BODY + ", \"retain_last\": 1.5}",
          FlightStatusCode.INVALID_ARGUMENT,
          "retain_last 1.5 must be a whole number of at least 1");
      assertActionFails(
          client,
          "{\"table\": \"t\"}",
          FlightStatusCode.INVALID_ARGUMENT,
          "needs a JSON body {\"namespace\": ..., \"table\": ...}");
      assertThat(snapshots(client)).hasSize(1);
    }
  }

  private static void assertActionFails(
      FlightClient client, String body, FlightStatusCode code, String message) {
    assertThatThrownBy(() -> action(client, body))
        .isInstanceOf(FlightRuntimeException.class)
        .satisfies(e -> assertCode(e, code))
        .hasMessageContaining(message);
  }

  private static void assertCode(Throwable e, FlightStatusCode code) {
    assertThat(((FlightRuntimeException) e).status().code()).isEqualTo(code);
  }

  private static JsonNode action(FlightClient client, String body) throws Exception {
    return action(client, QuiverActions.EXPIRE_SNAPSHOTS, body);
  }

  private static JsonNode action(FlightClient client, String type, String body) throws Exception {
    Iterator<Result> results =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)));
    JsonNode json = JSON.readTree(results.next().getBody());
    results.forEachRemaining(r -> {});
    return json;
  }

  /** The table's snapshot ids, oldest first. */
  private static List<Long> snapshots(FlightClient client) throws Exception {
    List<Long> ids = new ArrayList<>();
    action(client, QuiverActions.LIST_SNAPSHOTS, BODY + "}")
        .get("snapshots")
        .forEach(s -> ids.add(s.get("snapshot_id").asLong()));
    return ids;
  }

  private Map<String, String> properties() {
    AtomicReference<Map<String, String>> props = new AtomicReference<>();
    withTable(t -> props.set(Map.copyOf(t.properties())));
    return props.get();
  }

  /** Opens the server's catalog as IcebergTableStore does and hands {@code ns.t} to {@code use}. */
  private void withTable(Consumer<Table> use) {
    JdbcCatalog catalog = new JdbcCatalog();
    catalog.initialize(
        "quiver",
        Map.of(
            CatalogProperties.URI,
            "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("catalog.db"),
            CatalogProperties.WAREHOUSE_LOCATION,
            dataDir.toAbsolutePath().resolve("warehouse").toUri().toString(),
            CatalogProperties.FILE_IO_IMPL,
            LocalFileIO.class.getName(),
            "jdbc.schema-version",
            "V1"));
    try {
      use.accept(catalog.loadTable(TableIdentifier.of("ns", "t")));
    } finally {
      catalog.close();
    }
  }

  private Path tableFolder() throws Exception {
    try (Stream<Path> dirs = Files.list(dataDir.resolve("warehouse/ns"))) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("t-"))
          .findFirst()
          .orElseThrow();
    }
  }

  private static Path newestMetadataJson(Path metadata) throws Exception {
    try (Stream<Path> files = Files.list(metadata)) {
      return files
          .filter(p -> p.getFileName().toString().contains(".metadata.json"))
          .max(java.util.Comparator.comparing(p -> p.getFileName().toString()))
          .orElseThrow();
    }
  }

  private static long metadataJsonFiles(Path metadata) throws Exception {
    try (Stream<Path> files = Files.list(metadata)) {
      return files.filter(p -> p.getFileName().toString().contains(".metadata.json")).count();
    }
  }

  private static long bytes(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static long count(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).count();
    }
  }
}
