package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverActions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 during puts to a warehouse in S3 (s3proxy): after every restart each table holds its
 * committed puts and the killed one entirely or not at all, the staging folder is empty, and at the
 * end remove-orphan-files leaves exactly the data files the tables reference in the bucket.
 *
 * <p>Half the kills land while the put streams, half after the client finished writing, in the
 * later half of the acknowledgement latency (while the server writes its last file, uploads and
 * commits; some just after the acknowledgement). {@code -Dquiver.s3crash.kills=N} runs more; {@code
 * -Dquiver.crash.seed=N} replays a run.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class S3CrashIT {
  static final int KILLS = Integer.getInteger("quiver.s3crash.kills", 6);
  private static final long SEED = Long.getLong("quiver.crash.seed", System.nanoTime());
  private static final int PUT_ROWS = 200_000;
  private static final int BATCH_ROWS = 4096;
  private static final String BUCKET = "warehouse";

  @TempDir Path dataDir;
  @TempDir Path s3Root;

  @Test
  void killedPutsOnObjectStorageLeaveNothingVisibleAndNothingAfterOrphanRemoval(
      BufferAllocator allocator) throws Exception {
    System.out.printf("S3CrashIT: %d kills, seed %d%n", KILLS, SEED);
    Random random = new Random(SEED);
    Map<String, CrashIT.Expected> expected = new LinkedHashMap<>();
    expected.put("events", new CrashIT.Expected());
    Map<String, Integer> outcomes = new LinkedHashMap<>();
    long nextId = 0;
    long ackLatencyMs = -1;
    ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
    try (S3ProxyProcess s3 = S3ProxyProcess.start(s3Root, BUCKET)) {
      for (int kill = 0; kill < KILLS; kill++) {
        long[] range = {nextId, PUT_ROWS};
        nextId += PUT_ROWS;
        boolean duringCommit = ackLatencyMs < 0 || random.nextBoolean();
        try (QuiverServerProcess server = startServer(s3);
            FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
          assertThat(staged()).as("staged files of the killed put deleted at start").isEmpty();
          CrashIT.verify(client, allocator, expected, outcomes);
          expected.get("events").pending = range;
          int killAtBatch = duringCommit ? -1 : random.nextInt(PUT_ROWS / BATCH_ROWS);
          long delayMs =
              ackLatencyMs < 0
                  ? Long.MAX_VALUE
                  // The later half of the acknowledgement latency: the last file's flush, the
                  // upload and the commit, where a kill leaves uploaded objects no table has.
                  : duringCommit ? (long) ((0.5 + random.nextDouble() * 0.6) * ackLatencyMs) : 0;
          long acked =
              CrashIT.putThenKill(
                  client, allocator, server, killer, "events", range, killAtBatch, delayMs, random);
          if (acked >= 0) {
            ackLatencyMs = ackLatencyMs < 0 ? acked : (ackLatencyMs + acked) / 2;
            expected.get("events").committed.add(range);
            expected.get("events").pending = null;
            outcomes.merge("acknowledged before the kill", 1, Integer::sum);
          } else {
            outcomes.merge(
                duringCommit ? "killed finishing/committing" : "killed streaming", 1, Integer::sum);
          }
          server.kill();
        }
      }
      int removed;
      try (QuiverServerProcess server = startServer(s3);
          FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
        CrashIT.verify(client, allocator, expected, outcomes);
        JsonNode result = FlightTables.action(client, QuiverActions.REMOVE_ORPHAN_FILES, Map.of());
        assertThat(result.get("skipped_live").asInt()).isZero();
        removed = result.get("removed_files").asInt();
        CrashIT.verify(client, allocator, expected, outcomes);
        long referenced = 0;
        for (JsonNode snapshot :
            FlightTables.listSnapshots(client, "crash", "events").get("snapshots")) {
          referenced += snapshot.get("added_files").asLong();
        }
        List<String> dataObjects =
            s3.keys(BUCKET, "wh/").stream().filter(k -> k.endsWith(".parquet")).toList();
        assertThat(dataObjects)
            .as("after orphan removal, exactly the data files the snapshots added")
            .hasSize((int) referenced);
      }
      System.out.printf(
          "S3CrashIT: %d kills survived, seed %d, outcomes %s, remove-orphan-files removed %d%n",
          KILLS, SEED, outcomes, removed);
    } finally {
      killer.shutdownNow();
    }
  }

  private QuiverServerProcess startServer(S3ProxyProcess s3) {
    return QuiverServerProcess.start(
        dataDir,
        List.of(
            "-Daws.accessKeyId=" + S3ProxyProcess.ACCESS_KEY,
            "-Daws.secretAccessKey=" + S3ProxyProcess.SECRET_KEY),
        "--storage.target-file-size",
        "1MB",
        "--storage.warehouse",
        "s3://" + BUCKET + "/wh",
        "--storage.s3.endpoint",
        s3.endpoint(),
        "--storage.s3.path-style-access",
        "true");
  }

  private List<Path> staged() throws Exception {
    Path staging = dataDir.resolve("staging");
    if (!Files.exists(staging)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(staging)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }
}
