package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.QuiverActions;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The remove-orphan-files action: removes what killed uploads and commits leave, keeps every file a
 * table references and every file of an upload still running.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class OrphanRemovalTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB", "storage.target-file-size", "1MB");
  }

  @Test
  void removesUnreferencedFilesAndKeepsTablesAndRunningUploads(BufferAllocator allocator)
      throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      IdTable.put(client, allocator, TABLE, 0, 50_000);
      Path tableDir = tableFolder();
      // What a killed put, a killed commit and a killed create leave behind, from long ago.
      Path deadPut = write(tableDir.resolve("data/put-dead/data-0.parquet"), 100);
      Path deadManifest = write(tableDir.resolve("metadata/dead-m0.avro"), 10);
      Path ghostTable =
          write(dataDir.resolve("warehouse/ns/ghost-1234/data/put-x/data-0.parquet"), 7);
      // And one from just now.
      Path young = write(tableDir.resolve("data/put-young/data-0.parquet"), 5);
      for (Path p : List.of(deadPut, deadManifest, ghostTable)) {
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
      }
      List<Path> before = files();
      List<Path> putFolders = putFolders(tableDir);

      JsonNode dry = action(client, "{\"dry_run\": true, \"min_age_seconds\": 3600}");
      assertThat(dry.get("dry_run").asBoolean()).isTrue();
      assertThat(dry.get("removed_files").asInt()).isEqualTo(3);
      assertThat(dry.get("removed_bytes").asLong()).isEqualTo(117);
      assertThat(dry.get("skipped_young").asInt()).isEqualTo(1);
      assertThat(files()).isEqualTo(before);

      // A put streams while the action runs: its staged files are not touched.
      try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
          SyncPutListener listener = new SyncPutListener()) {
        FlightClient.ClientStreamListener stream = client.startPut(TABLE, root, listener);
        for (int b = 0; b < 20; b++) {
          IdTable.fill(root, 50_000 + b * 5_000L, 5_000);
          stream.putNext();
        }
        // The running put's folder, once DuckDB has started writing its first file.
        Path running = waitForNewPutFolder(tableDir, putFolders);

        JsonNode removed = action(client, "");

        assertThat(removed.get("dry_run").asBoolean()).isFalse();
        assertThat(removed.get("tables_scanned").asInt()).isEqualTo(1);
        assertThat(removed.get("skipped_live").asInt()).isPositive();
        assertThat(removed.get("removed_files").asInt()).isEqualTo(4);
        assertThat(paths(removed))
            .containsExactlyInAnyOrder(
                "ns/ghost-1234/data/put-x/data-0.parquet",
                relative(deadManifest),
                relative(deadPut),
                relative(young));
        assertThat(deadPut.getParent()).doesNotExist();
        assertThat(dataDir.resolve("warehouse/ns/ghost-1234")).doesNotExist();
        assertThat(tableDir.resolve("data")).isDirectory();
        assertThat(running).isDirectoryContaining(p -> p.toString().endsWith(".parquet"));

        for (int b = 20; b < 30; b++) {
          IdTable.fill(root, 50_000 + b * 5_000L, 5_000);
          stream.putNext();
        }
        stream.completed();
        stream.getResult();
        listener.read().close();
      }
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(200_000));
      JsonNode again = action(client, "{}");
      assertThat(again.get("removed_files").asInt()).isZero();
      assertThat(again.get("skipped_live").asInt()).isZero();
    }
  }

  @Test
  void badBodiesAreInvalidArgument(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (String body : List.of("[1]", "{\"min_age_seconds\": -1}", "{\"dry_run\": 3}", "nope")) {
        assertThatThrownBy(() -> action(client, body))
            .isInstanceOf(FlightRuntimeException.class)
            .satisfies(
                e ->
                    assertThat(((FlightRuntimeException) e).status().code())
                        .isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
            .hasMessageContaining(QuiverActions.REMOVE_ORPHAN_FILES);
      }
    }
  }

  private Path tableFolder() throws Exception {
    try (Stream<Path> dirs = Files.list(dataDir.resolve("warehouse/ns"))) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("t-"))
          .findFirst()
          .orElseThrow();
    }
  }

  private static List<Path> putFolders(Path tableDir) throws IOException {
    try (Stream<Path> dirs = Files.list(tableDir.resolve("data"))) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("put-")).toList();
    }
  }

  private static Path waitForNewPutFolder(Path tableDir, List<Path> known) throws Exception {
    AtomicReference<Path> found = new AtomicReference<>();
    Await.until(
        () -> {
          try {
            for (Path dir : putFolders(tableDir)) {
              if (!known.contains(dir) && hasFiles(dir)) {
                found.set(dir);
                return true;
              }
            }
            return false;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        "a running put's first file");
    return found.get();
  }

  private static boolean hasFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.findAny().isPresent();
    }
  }

  private String relative(Path p) {
    return dataDir.resolve("warehouse").toAbsolutePath().relativize(p.toAbsolutePath()).toString();
  }

  private List<Path> files() throws Exception {
    try (Stream<Path> walk = Files.walk(dataDir.resolve("warehouse"))) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static Path write(Path file, int bytes) throws Exception {
    Files.createDirectories(file.getParent());
    return Files.write(file, new byte[bytes]);
  }

  private static List<String> paths(JsonNode result) {
    return Stream.of(result.get("files"))
        .flatMap(a -> java.util.stream.StreamSupport.stream(a.spliterator(), false))
        .map(f -> f.get("path").asText())
        .toList();
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
