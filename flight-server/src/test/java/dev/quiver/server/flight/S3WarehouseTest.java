package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.table.ReadCache;
import dev.quiver.server.table.S3ProxyExtension;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A warehouse in S3 (s3proxy): puts stage locally, upload and commit; DoGet and SQL read through
 * the read cache; failed puts leave nothing visible and orphan removal removes uploads no table
 * references; a missing bucket or refused credentials stop the start with a clear message.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class S3WarehouseTest {
  @RegisterExtension static final S3ProxyExtension S3 = new S3ProxyExtension();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @TempDir Path dataDir;

  private QuiverServer start(String prefix, String... more) throws Exception {
    List<String> settings = new ArrayList<>(List.of(S3.settings(prefix)));
    settings.addAll(List.of("memory.total", "256MB", "storage.target-file-size", "1MB"));
    settings.addAll(List.of(more));
    return TestServers.start(dataDir, settings.toArray(String[]::new));
  }

  @Test
  void putThenReadBackEqualThroughDoGetAndSqlWithTheSecondReadACacheHit(BufferAllocator allocator)
      throws Exception {
    try (QuiverServer server = start("equal", "telemetry.prometheus-port", "0");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 300_000);

      List<String> keys = S3.keys("equal/ns/");
      assertThat(keys).anyMatch(k -> k.matches("equal/ns/t-[0-9a-f]{8}/data/put-.*\\.parquet"));
      assertThat(keys).anyMatch(k -> k.contains("/metadata/") && k.endsWith(".metadata.json"));
      assertThat(localFiles(dataDir.resolve("staging"))).as("staged copies deleted").isEmpty();
      assertThat(dataDir.resolve("warehouse")).doesNotExist();

      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(300_000));
      ReadCache.Stats first = server.readCache().orElseThrow().stats();
      assertThat(first.misses()).isPositive();
      assertThat(first.fetchedBytes()).isEqualTo(first.cachedBytes());

      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(300_000));
      ReadCache.Stats second = server.readCache().orElseThrow().stats();
      assertThat(second.misses()).as("nothing fetched again").isEqualTo(first.misses());
      assertThat(second.hits()).isGreaterThanOrEqualTo(first.hits() + first.misses());

      assertThat(sql(client, "SELECT sum(id) AS s FROM ns.t")).isEqualTo(IdTable.sum(300_000));
      assertThat(sql(client, "SELECT count(*) AS s FROM ns.t")).isEqualTo(300_000);
      assertThat(server.readCache().orElseThrow().stats().misses()).isEqualTo(first.misses());
      Await.until(() -> server.memory().allocated() == 0, "the reads' memory released");
      String metrics =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://127.0.0.1:"
                                  + server.telemetryPort().orElseThrow()
                                  + "/metrics"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains(
              "quiver_read_cache_hits_total " + (double) server.readCache().get().stats().hits())
          .contains("quiver_read_cache_misses_total " + (double) first.misses())
          .contains("quiver_read_cache_fetched_bytes_total " + (double) first.fetchedBytes())
          .contains("quiver_read_cache_evictions_total 0.0")
          .contains("quiver_read_cache_size_bytes " + (double) first.cachedBytes());
      // Every fetch into the cache and every upload went through the metered FileIO.
      assertThat(storageBytes(metrics, "read")).isGreaterThanOrEqualTo(first.fetchedBytes());
      assertThat(storageBytes(metrics, "write")).isGreaterThanOrEqualTo(first.fetchedBytes());
      assertThat(metrics)
          .containsPattern(
              "quiver_storage_operation_duration_seconds_count\\{[^}]*operation=\"write\","
                  + "[^}]*storage=\"s3\"[^}]*\\} [1-9]")
          .containsPattern(
              "quiver_storage_operations_total\\{[^}]*operation=\"list\",[^}]*storage=\"s3\"");
    }
  }

  /** quiver_storage_io_bytes_total for {@code operation} in S3, from a Prometheus scrape. */
  private static long storageBytes(String metrics, String operation) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "quiver_storage_io_bytes_total\\{[^}]*operation=\""
                    + operation
                    + "\",[^}]*storage=\"s3\"[^}]*\\} ([0-9.E]+)")
            .matcher(metrics);
    assertThat(m.find())
        .as("quiver_storage_io_bytes_total for %s in %s", operation, metrics)
        .isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  @Test
  void deleteUpdateAndMergeRewriteFilesInS3(BufferAllocator allocator) throws Exception {
    try (QuiverServer server = start("dml");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 300_000);
      FlightSqlClient sql = new FlightSqlClient(client); // closed with the client

      assertThat(sql.executeUpdate("DELETE FROM ns.t WHERE id < 1000")).isEqualTo(1000);
      assertThat(sql.executeUpdate("UPDATE ns.t SET id = id + 1000000 WHERE id >= 299000"))
          .isEqualTo(1000);
      assertThat(
              sql.executeUpdate(
                  "MERGE INTO ns.t USING (SELECT 5 AS id) s ON t.id = s.id"
                      + " WHEN NOT MATCHED THEN INSERT VALUES (s.id)"))
          .isEqualTo(1);

      assertThat(sql(client, "SELECT count(*) AS s FROM ns.t")).isEqualTo(299_001);
      assertThat(sql(client, "SELECT sum(id) AS s FROM ns.t"))
          .isEqualTo(IdTable.sum(300_000) - IdTable.sum(1000) + 1000L * 1_000_000 + 5);
      assertThat(localFiles(dataDir.resolve("staging"))).as("staged copies deleted").isEmpty();
      assertThat(S3.keys("dml/ns/").stream().filter(k -> k.endsWith(".parquet")))
          .as("the rewrites uploaded")
          .hasSizeGreaterThan(1);
    }
  }

  @Test
  void aPartitionedPutUploadsEachPartitionsFilesUnderItsPartitionPath(BufferAllocator allocator)
      throws Exception {
    try (QuiverServer server = start("parts");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 10);
      PartitioningTest.action(
          client,
          dev.quiver.client.QuiverActions.SET_PARTITIONING,
          "{\"namespace\": \"ns\", \"table\": \"t\", \"partitioning\": [\"bucket(4, id)\"]}");
      IdTable.put(client, allocator, TABLE, 10, 1000);

      // Every partition's file is named data-0.parquet: only the partition path tells them apart.
      List<String> keys = S3.keys("parts/ns/");
      for (int bucket = 0; bucket < 4; bucket++) {
        String folder = "/id_bucket_4=" + bucket + "/";
        assertThat(keys).anyMatch(k -> k.contains(folder) && k.endsWith("/data-0.parquet"));
      }
      assertThat(localFiles(dataDir.resolve("staging"))).as("staged copies deleted").isEmpty();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(1010));
      Await.until(() -> server.memory().allocated() == 0, "the reads' memory released");
    }
  }

  @Test
  void aFailedPutLeavesNothingAndOrphanRemovalRemovesUploadsNoTableReferences(
      BufferAllocator allocator) throws Exception {
    try (QuiverServer server = start("orphans");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 20_000);
      List<String> committed = S3.keys("orphans/");

      // A put whose client fails it midway: nothing visible, nothing uploaded, nothing staged.
      try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
          SyncPutListener listener = new SyncPutListener()) {
        FlightClient.ClientStreamListener stream = client.startPut(TABLE, root, listener);
        IdTable.fill(root, 1_000_000, 10_000);
        stream.putNext();
        stream.error(new RuntimeException("client gave up"));
        assertThatThrownBy(stream::getResult).isInstanceOf(FlightRuntimeException.class);
      }
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(20_000));
      assertThat(S3.keys("orphans/")).containsExactlyInAnyOrderElementsOf(committed);
      assertThat(localFiles(dataDir.resolve("staging"))).isEmpty();

      // What a put killed between its upload and its commit leaves, and a dead commit's manifest.
      String table = committed.get(0).replaceAll("^(orphans/ns/t-[0-9a-f]{8})/.*$", "$1");
      try (S3Client s3 = S3.client()) {
        for (String key :
            List.of(table + "/data/put-dead/data-0.parquet", table + "/metadata/dead-m0.avro")) {
          s3.putObject(r -> r.bucket(S3.bucket()).key(key), RequestBody.fromBytes(new byte[100]));
        }
      }

      JsonNode young = action(client, "{\"min_age_seconds\": 3600}");
      assertThat(young.get("removed_files").asInt()).isZero();
      assertThat(young.get("skipped_young").asInt()).isEqualTo(2);

      JsonNode dry = action(client, "{\"dry_run\": true}");
      assertThat(paths(dry))
          .containsExactlyInAnyOrder(
              table.substring("orphans/".length()) + "/data/put-dead/data-0.parquet",
              table.substring("orphans/".length()) + "/metadata/dead-m0.avro");
      assertThat(S3.keys("orphans/")).hasSize(committed.size() + 2);

      JsonNode removed = action(client, "{}");
      assertThat(removed.get("removed_files").asInt()).isEqualTo(2);
      assertThat(removed.get("removed_bytes").asLong()).isEqualTo(200);
      assertThat(S3.keys("orphans/")).containsExactlyInAnyOrderElementsOf(committed);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(20_000));

      // Dropping the table deletes its objects.
      client
          .doAction(
              new Action(
                  QuiverActions.DROP_TABLE, "{\"namespace\": \"ns\", \"table\": \"t\"}".getBytes()))
          .forEachRemaining(r -> {});
      assertThat(S3.keys(table + "/")).isEmpty();
    }
  }

  @Test
  void aPutWhoseCommitFailsAfterItsUploadDeletesItsUploads(BufferAllocator allocator)
      throws Exception {
    Schema other = new Schema(List.of(Field.nullable("id", new ArrowType.Utf8())));
    try (QuiverServer server = start("lostrace");
        FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot ints = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
        VectorSchemaRoot strings = VectorSchemaRoot.create(other, allocator);
        SyncPutListener first = new SyncPutListener();
        SyncPutListener second = new SyncPutListener()) {
      // Two first puts to one new table with different schemas, both past creating their table.
      FlightClient.ClientStreamListener winner = client.startPut(TABLE, ints, first);
      IdTable.fill(ints, 0, 10_000);
      winner.putNext();
      FlightClient.ClientStreamListener loser = client.startPut(TABLE, strings, second);
      VarCharVector names = (VarCharVector) strings.getVector("id");
      names.allocateNew(3);
      for (int i = 0; i < 3; i++) {
        names.setSafe(i, ("n" + i).getBytes(StandardCharsets.UTF_8));
      }
      strings.setRowCount(3);
      loser.putNext();
      Await.until(() -> stagedPuts() == 2, "both puts staging");
      winner.completed();
      winner.getResult();
      first.read().close();

      // The loser uploads, then finds the table created with another schema: its commit fails.
      loser.completed();
      assertThatThrownBy(loser::getResult)
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("ns.t");
      assertThat(S3.keys("lostrace/ns/"))
          .as("only the winner's data files")
          .filteredOn(k -> k.endsWith(".parquet"))
          .hasSize(1);
      assertThat(stagedPuts()).isZero();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(10_000));
    }
  }

  private long stagedPuts() {
    try (Stream<Path> puts = Files.list(dataDir.resolve("staging"))) {
      return puts.filter(p -> p.getFileName().toString().startsWith("put-")).count();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aTinyCacheEvictsAndStillReadsCorrectly(BufferAllocator allocator) throws Exception {
    try (QuiverServer server = start("tiny", "storage.cache-size", "1KB");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int put = 0; put < 3; put++) {
        IdTable.put(client, allocator, TABLE, put * 50_000L, 50_000);
      }
      for (int read = 0; read < 2; read++) {
        assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(150_000));
        assertThat(sql(client, "SELECT sum(id) AS s FROM ns.t")).isEqualTo(IdTable.sum(150_000));
      }
      ReadCache.Stats stats = server.readCache().orElseThrow().stats();
      assertThat(stats.evictions()).isPositive();
      assertThat(stats.misses()).as("every read fetched again").isGreaterThanOrEqualTo(3 * 4);
      // A DoGet unpins its files on the stream thread once its source closes, which may be just
      // after the client has read the last batch.
      Await.until(
          () -> server.readCache().orElseThrow().stats().cachedBytes() <= 1024,
          "the cache back under its bound once nothing is pinned");
    }
  }

  @Test
  void aMissingBucketOrRefusedCredentialsStopTheStartNamingThem() {
    assertThatThrownBy(
            () ->
                TestServers.start(
                    dataDir,
                    "storage.warehouse",
                    "s3://no-such-bucket/x",
                    "storage.s3.endpoint",
                    S3.endpoint(),
                    "storage.s3.path-style-access",
                    "true"))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAVAILABLE))
        .hasMessageContaining("Cannot use storage.warehouse s3://no-such-bucket/x")
        .hasMessageContaining("bucket no-such-bucket at " + S3.endpoint());
    String secret = System.getProperty("aws.secretAccessKey");
    System.setProperty("aws.secretAccessKey", "wrong");
    try {
      assertThatThrownBy(() -> start("creds"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAVAILABLE))
          .hasMessageContaining("bucket " + S3.bucket() + " at " + S3.endpoint())
          .hasMessageContaining("403");
    } finally {
      System.setProperty("aws.secretAccessKey", secret);
    }
  }

  private static long sql(FlightClient client, String query) throws Exception {
    FlightSqlClient sql = new FlightSqlClient(client);
    FlightInfo info = sql.execute(query);
    long value = 0;
    try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
      while (stream.next()) {
        VectorSchemaRoot root = stream.getRoot();
        if (root.getRowCount() > 0) {
          Object v = root.getVector("s").getObject(0);
          value = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString());
        }
      }
    }
    return value;
  }

  private static List<Path> localFiles(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }

  private static List<String> paths(JsonNode result) {
    List<String> out = new ArrayList<>();
    result.get("files").forEach(f -> out.add(f.get("path").asText()));
    return out;
  }

  private static JsonNode action(FlightClient client, String body) throws Exception {
    Iterator<Result> results =
        client.doAction(
            new Action(QuiverActions.REMOVE_ORPHAN_FILES, body.getBytes(StandardCharsets.UTF_8)));
    JsonNode json = JSON.readTree(results.next().getBody());
    results.forEachRemaining(r -> {});
    return json;
  }
}
