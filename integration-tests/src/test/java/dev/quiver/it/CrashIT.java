package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.QuiverActions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 during large puts and during their commits, many times over, on one data folder: after
 * every restart each table holds exactly the puts that committed (an acknowledged put always, the
 * killed one entirely or not at all), one snapshot per committed put, every data file a snapshot
 * references is on disk with its recorded size, and row counts and checksums agree.
 *
 * <p>CI runs {@link #KILLS} kills (about two minutes); {@code -Dquiver.crash.kills=200} runs more,
 * and {@code -Dquiver.crash.seed=N} replays a run (the seed is printed). Half the kills land at a
 * random batch while the put streams; the other half at a random delay after the client finished
 * writing, while the server flushes the last file and commits: uniform in 1.25 times the
 * acknowledgement latency (measured by a first put that runs to its acknowledgement, then averaged
 * with later ones), so most land before the acknowledgement, in the flush or Iceberg's commit, and
 * some just after it.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class CrashIT {
  static final int KILLS = Integer.getInteger("quiver.crash.kills", 10);
  private static final long SEED = Long.getLong("quiver.crash.seed", System.nanoTime());
  private static final int PUT_ROWS = 400_000;
  private static final int BATCH_ROWS = 4096;
  private static final List<String> TABLES = List.of("events", "orders");

  @TempDir Path dataDir;

  /** The puts a table must hold and the one whose fate the last kill left open. */
  static final class Expected {
    final List<long[]> committed = new ArrayList<>();
    long[] pending;
  }

  @Test
  void killedPutsLeaveEveryTableAtItsOldOrNewSnapshot(BufferAllocator allocator) throws Exception {
    System.out.printf("CrashIT: %d kills, seed %d%n", KILLS, SEED);
    Random random = new Random(SEED);
    Map<String, Expected> expected = new LinkedHashMap<>();
    TABLES.forEach(t -> expected.put(t, new Expected()));
    long nextId = 0;
    long ackLatencyMs = -1;
    Map<String, Integer> outcomes = new LinkedHashMap<>();
    int orphans = 0;
    int orphansRemoved = 0;
    java.util.Set<Path> unreferenced = java.util.Set.of();
    ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
    try {
      for (int kill = 0; kill < KILLS; kill++) {
        String table = TABLES.get(kill % TABLES.size());
        long[] range = {nextId, PUT_ROWS};
        nextId += PUT_ROWS;
        // The first put runs to its acknowledgement (then the server is killed) to measure it.
        boolean duringCommit = ackLatencyMs < 0 || random.nextBoolean();
        try (QuiverServerProcess server = startServer();
            FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
          verify(client, allocator, expected, outcomes);
          expected.get(table).pending = range;
          int totalBatches = (PUT_ROWS + BATCH_ROWS - 1) / BATCH_ROWS;
          int killAtBatch = duringCommit ? -1 : random.nextInt(totalBatches);
          long delayMs =
              ackLatencyMs < 0
                  ? Long.MAX_VALUE
                  : duringCommit ? (long) (random.nextDouble() * ackLatencyMs * 1.25) : 0;
          long acked =
              putThenKill(
                  client, allocator, server, killer, table, range, killAtBatch, delayMs, random);
          if (acked >= 0) {
            ackLatencyMs = ackLatencyMs < 0 ? acked : (ackLatencyMs + acked) / 2;
            expected.get(table).committed.add(range);
            expected.get(table).pending = null;
            outcomes.merge("acknowledged before the kill", 1, Integer::sum);
          } else {
            outcomes.merge(
                duringCommit ? "killed finishing/committing" : "killed streaming", 1, Integer::sum);
          }
          server.kill();
        }
        CatalogInspector.Report report = CatalogInspector.inspect(dataDir);
        orphans = report.unreferencedDataFiles().size();
        unreferenced = report.unreferencedDataFiles();
        assertThat(report.missingFiles()).as("data files snapshots reference").isEmpty();
        for (Map.Entry<String, Expected> entry : expected.entrySet()) {
          if (!entry.getValue().committed.isEmpty()) {
            assertThat(report.snapshotRows().get("crash." + entry.getKey()))
                .as("snapshots of crash.%s seen in the catalog", entry.getKey())
                .hasSizeGreaterThanOrEqualTo(entry.getValue().committed.size());
          }
        }
        report
            .snapshotRows()
            .forEach(
                (name, rows) ->
                    assertThat(rows)
                        .as("row counts of %s's snapshots only grow", name)
                        .isSortedAccordingTo(Long::compare));
      }
      try (QuiverServerProcess server = startServer();
          FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
        verify(client, allocator, expected, outcomes);
        // What the kills left behind is found and removed, and nothing the tables need.
        var removed = FlightTables.action(client, QuiverActions.REMOVE_ORPHAN_FILES, Map.of());
        assertThat(removed.get("removed_files").asInt())
            .as("files removed: %s; unreferenced before: %s", removed, unreferenced)
            .isGreaterThanOrEqualTo(unreferenced.size());
        assertThat(removed.get("skipped_live").asInt()).isZero();
        orphansRemoved = removed.get("removed_files").asInt();
        verify(client, allocator, expected, outcomes);
      }
      CatalogInspector.Report report = CatalogInspector.inspect(dataDir);
      assertThat(report.missingFiles()).isEmpty();
      assertThat(report.unreferencedDataFiles()).isEmpty();
    } finally {
      killer.shutdownNow();
    }
    System.out.printf(
        "CrashIT: %d kills survived, seed %d, outcomes %s, %d unreferenced data files left,"
            + " remove-orphan-files removed %d files%n",
        KILLS, SEED, outcomes, orphans, orphansRemoved);
  }

  private QuiverServerProcess startServer() {
    // Small files, so a put writes several and a partial commit would show.
    return QuiverServerProcess.start(dataDir, "--storage.target-file-size", "1MB");
  }

  /**
   * Streams {@code range} into {@code table} and kills the server: after batch {@code killAtBatch},
   * or (when it is negative) {@code delayMs} after the client finished writing. Returns the
   * acknowledgement latency in ms if the put was acknowledged before the kill, else -1.
   */
  static long putThenKill(
      FlightClient client,
      BufferAllocator allocator,
      QuiverServerProcess server,
      ScheduledExecutorService killer,
      String table,
      long[] range,
      int killAtBatch,
      long delayMs,
      Random random)
      throws Exception {
    FlightDescriptor descriptor = FlightDescriptor.path("crash", table);
    try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(descriptor, root, listener);
      int batch = 0;
      for (long first = range[0]; first < range[0] + range[1]; first += BATCH_ROWS, batch++) {
        FlightTables.fill(root, first, (int) Math.min(BATCH_ROWS, range[0] + range[1] - first));
        stream.putNext();
        if (batch == killAtBatch) {
          // Let the batch reach the server first, some of the time.
          Thread.sleep(random.nextInt(20));
          server.kill();
          return -1;
        }
      }
      stream.completed();
      long finished = System.nanoTime();
      if (delayMs != Long.MAX_VALUE) {
        killer.schedule(server::kill, delayMs, TimeUnit.MILLISECONDS);
      }
      try {
        stream.getResult();
        listener.read().close();
        return Duration.ofNanos(System.nanoTime() - finished).toMillis();
      } catch (RuntimeException e) {
        return -1;
      }
    }
  }

  /**
   * Checks each table against what must be in it and settles the pending put of each: in entirely
   * or not at all.
   */
  static void verify(
      FlightClient client,
      BufferAllocator allocator,
      Map<String, Expected> expected,
      Map<String, Integer> outcomes)
      throws Exception {
    FlightSqlClient sql = new FlightSqlClient(client);
    for (Map.Entry<String, Expected> entry : expected.entrySet()) {
      Expected table = entry.getValue();
      if (table.committed.isEmpty() && table.pending == null) {
        continue;
      }
      String name = "crash." + entry.getKey();
      boolean exists = !FlightTables.tables(client, "crash").stream().noneMatch(name::equals);
      List<Object> actual = exists ? checksums(sql, name) : expectedChecksums(List.of());
      List<long[]> without = table.committed;
      List<long[]> with = new ArrayList<>(table.committed);
      if (table.pending != null) {
        with.add(table.pending);
      }
      List<Object> old = expectedChecksums(without);
      List<Object> updated = expectedChecksums(with);
      assertThat(actual)
          .as("%s holds its committed puts, and the killed one entirely or not at all", name)
          .isIn(old, updated);
      if (table.pending != null) {
        boolean landed = actual.equals(updated) && !old.equals(updated);
        if (landed) {
          table.committed.add(table.pending);
        }
        outcomes.merge(
            landed ? "killed put found committed" : "killed put absent", 1, Integer::sum);
        table.pending = null;
      }
      int snapshots =
          exists
              ? FlightTables.listSnapshots(client, "crash", entry.getKey()).get("snapshots").size()
              : 0;
      assertThat(snapshots)
          .as("one snapshot per committed put of %s", name)
          .isEqualTo(table.committed.size());
    }
  }

  /** Row count, distinct ids, sum of ids, non-null names and sum of amounts of a table. */
  private static List<Object> checksums(FlightSqlClient sql, String table) throws Exception {
    FlightStream stream =
        sql.getStream(
            sql.execute(
                    "SELECT count(*), count(DISTINCT id), coalesce(sum(id), 0), count(name),"
                        + " coalesce(sum(amount), 0) FROM "
                        + table)
                .getEndpoints()
                .get(0)
                .getTicket());
    try (stream) {
      assertThat(stream.next()).isTrue();
      VectorSchemaRoot root = stream.getRoot();
      List<Object> values = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        values.add(((Number) root.getVector(i).getObject(0)).toString());
      }
      return values;
    }
  }

  private static List<Object> expectedChecksums(List<long[]> ranges) {
    long rows = 0;
    long ids = 0;
    long names = 0;
    double amounts = 0;
    for (long[] range : ranges) {
      for (long id = range[0]; id < range[0] + range[1]; id++) {
        rows++;
        ids += id;
        names += id % 7 == 0 ? 0 : 1;
        amounts += id % 5 == 0 ? 0 : id * 0.25;
      }
    }
    List<Object> values = new ArrayList<>();
    values.add(Long.toString(rows));
    values.add(Long.toString(rows));
    values.add(Long.toString(ids));
    values.add(Long.toString(names));
    values.add(Double.toString(amounts));
    return values;
  }
}
