package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import dev.quiver.testing.PostgresExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one PostgreSQL catalog and one warehouse: what one commits the other reads, plans
 * spread endpoints over both, and a node that stops heartbeating drops out of plans.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterTest {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();

  private static final TableId TABLE = TableId.of("ns", "events");
  private static final FlightDescriptor DESCRIPTOR = FlightDescriptor.path("ns", "events");
  private static final String NODE_TIMEOUT = "3s";

  @RegisterExtension final QuiverServers servers = new QuiverServers();

  // Each node has its own data folder (one server per folder); they share one warehouse.
  @TempDir Path dataDir;
  private String catalogUri;
  private final List<QuiverServer> nodes = new ArrayList<>();

  @BeforeEach
  void startTwoNodes() throws Exception {
    catalogUri = POSTGRES.newDatabase();
    nodes.add(startNode(0));
    nodes.add(startNode(1));
    Await.until(
        () -> nodes.stream().allMatch(n -> n.cluster().live().size() == 2),
        "both nodes to see each other");
  }

  private QuiverServer startNode(int index) throws Exception {
    return PostgresCatalogTest.start(
        servers,
        dataDir.resolve("node-" + index),
        catalogUri,
        "cluster.node-timeout",
        NODE_TIMEOUT,
        "flight.endpoint-target-size",
        "1KB",
        "telemetry.enabled",
        "false",
        "storage.warehouse",
        dataDir.resolve("warehouse").toString());
  }

  @Test
  void aPutThroughOneNodeReadsBackEqualThroughTheOther(BufferAllocator allocator) throws Exception {
    put(nodes.get(0), allocator, 0, 1000);
    put(nodes.get(1), allocator, 1000, 500);
    for (QuiverServer node : nodes) {
      try (FlightClient client = FlightClient.builder(allocator, node.location()).build()) {
        assertThat(client.getInfo(DESCRIPTOR).getRecords()).isEqualTo(1500);
        assertThat(IdTable.sumOfIds(client, DESCRIPTOR)).isEqualTo(IdTable.sum(1500));
      }
    }
  }

  @Test
  void endpointsLandOnBothNodesAndEachReadFromItsLocationGivesEveryRow(BufferAllocator allocator)
      throws Exception {
    for (int p = 0; p < 6; p++) {
      put(nodes.get(p % 2), allocator, p * 1000L, 1000);
    }
    Set<URI> nodeUris = new HashSet<>();
    nodes.forEach(n -> nodeUris.add(URI.create(n.uri())));
    try (FlightClient client = FlightClient.builder(allocator, nodes.get(0).location()).build()) {
      FlightInfo info = client.getInfo(DESCRIPTOR);
      assertThat(info.getEndpoints()).hasSizeGreaterThanOrEqualTo(2);
      Set<URI> used = new HashSet<>();
      long sum = 0;
      long rows = 0;
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        assertThat(endpoint.getLocations()).hasSize(1);
        Location location = endpoint.getLocations().get(0);
        used.add(location.getUri());
        try (FlightClient there = FlightClient.builder(allocator, location).build();
            FlightStream stream = there.getStream(endpoint.getTicket())) {
          while (stream.next()) {
            BigIntVector ids = (BigIntVector) stream.getRoot().getVector("id");
            for (int i = 0; i < ids.getValueCount(); i++) {
              sum += ids.get(i);
            }
            rows += stream.getRoot().getRowCount();
          }
        }
      }
      assertThat(used).as("endpoints on every live node").isEqualTo(nodeUris);
      assertThat(rows).isEqualTo(6000);
      assertThat(sum).isEqualTo(IdTable.sum(6000));
    }
  }

  @Test
  void aNodeThatStopsHeartbeatingDropsOutOfNewPlansWithinTheTimeout(BufferAllocator allocator)
      throws Exception {
    for (int p = 0; p < 4; p++) {
      put(nodes.get(0), allocator, p * 1000L, 1000);
    }
    // A node that beat once and then died (kill -9): its row stays, its heartbeat ages.
    String dead = "grpc://127.0.0.1:1";
    try (Connection db = DriverManager.getConnection(catalogUri, POSTGRES.user(), "");
        PreparedStatement insert =
            db.prepareStatement(
                "INSERT INTO quiver_nodes"
                    + " (catalog_name, node_id, advertise_uri, started_at, heartbeat_at)"
                    + " VALUES ('quiver', 'zz-dead-node', ?, ?, ?)")) {
      long now = System.currentTimeMillis();
      insert.setString(1, dead);
      insert.setLong(2, now);
      insert.setLong(3, now);
      insert.executeUpdate();
    }
    QuiverServer node = nodes.get(0);
    Await.until(() -> uris(node).contains(dead), "the dead node to be seen once");
    long seen = System.nanoTime();
    assertThat(planned(allocator, node)).contains(URI.create(dead));
    Await.until(() -> !uris(node).contains(dead), "the dead node to drop out");
    long gone = Duration.ofNanos(System.nanoTime() - seen).toMillis();
    assertThat(gone).as("dropped within cluster.node-timeout").isLessThanOrEqualTo(3000 + 500);
    assertThat(planned(allocator, node)).doesNotContain(URI.create(dead)).hasSize(2);

    // A node that shuts down leaves the cluster first (QuiverServer.close), at once.
    nodes.get(1).cluster().close();
    Await.until(() -> node.cluster().live().size() == 1, "the closed node to leave");
    try (FlightClient client = FlightClient.builder(allocator, node.location()).build()) {
      FlightInfo info = client.getInfo(DESCRIPTOR);
      assertThat(info.getEndpoints())
          .as("a node alone plans endpoints without locations")
          .allMatch(e -> e.getLocations().isEmpty());
      assertThat(IdTable.sumOfIds(client, DESCRIPTOR)).isEqualTo(IdTable.sum(4000));
    }
  }

  @Test
  void serverInfoListsTheLiveNodes(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, nodes.get(0).location()).build()) {
      var results = client.doAction(new Action(QuiverActions.SERVER_INFO));
      JsonNode info = new ObjectMapper().readTree(results.next().getBody());
      assertThat(info.path("node_id").asText()).isEqualTo(nodes.get(0).cluster().id());
      Set<String> listed = new HashSet<>();
      info.path("nodes").forEach(n -> listed.add(n.path("location").asText()));
      assertThat(listed).containsExactlyInAnyOrder(nodes.get(0).uri(), nodes.get(1).uri());
    }
  }

  @Test
  void orphanRemovalLeavesWhatOtherNodesMayStillBeWriting(BufferAllocator allocator)
      throws Exception {
    put(nodes.get(0), allocator, 0, 1000);
    Path tableDir;
    try (Stream<Path> tables = Files.list(dataDir.resolve("warehouse/ns"))) {
      tableDir = tables.findFirst().orElseThrow();
    }
    Instant old = Instant.now().minus(Duration.ofHours(2));
    // Another node's upload: one file rolled long ago, one being written now.
    Path otherRolled = write(tableDir.resolve("data/put-other/data-0.parquet"), old);
    Path otherWriting = write(tableDir.resolve("data/put-other/data-1.parquet"), Instant.now());
    // Another node's commit in flight: its new manifest is not referenced until its swap.
    Path inFlight = write(tableDir.resolve("metadata/inflight-m0.avro"), Instant.now());
    // A put killed long ago.
    Path dead = write(tableDir.resolve("data/put-dead/data-0.parquet"), old);
    Files.setLastModifiedTime(dead.getParent(), FileTime.from(old));

    try (FlightClient client = FlightClient.builder(allocator, nodes.get(1).location()).build()) {
      Iterator<Result> results =
          client.doAction(
              new Action(
                  QuiverActions.REMOVE_ORPHAN_FILES,
                  "{\"min_age_seconds\": 0}".getBytes(StandardCharsets.UTF_8)));
      JsonNode removed = new ObjectMapper().readTree(results.next().getBody());
      results.forEachRemaining(r -> {});
      assertThat(removed.get("removed_files").asInt()).isEqualTo(1);
      assertThat(removed.get("files").get(0).get("path").asText())
          .endsWith("put-dead/data-0.parquet");
      assertThat(removed.get("skipped_live").asInt()).isEqualTo(2);
      assertThat(removed.get("skipped_young").asInt()).isEqualTo(1);
    }
    assertThat(dead).doesNotExist();
    assertThat(otherRolled).exists();
    assertThat(otherWriting).exists();
    assertThat(inFlight).exists();
    try (FlightClient client = FlightClient.builder(allocator, nodes.get(1).location()).build()) {
      assertThat(IdTable.sumOfIds(client, DESCRIPTOR)).isEqualTo(IdTable.sum(1000));
    }
  }

  private static Path write(Path file, Instant modified) throws Exception {
    Files.createDirectories(file.getParent());
    Files.write(file, new byte[10]);
    Files.setLastModifiedTime(file, FileTime.from(modified));
    return file;
  }

  private static Set<String> uris(QuiverServer node) {
    Set<String> uris = new HashSet<>();
    node.cluster().live().forEach(n -> uris.add(n.uri()));
    return uris;
  }

  /** The distinct locations of a new plan's endpoints. */
  private static Set<URI> planned(BufferAllocator allocator, QuiverServer node) throws Exception {
    Set<URI> used = new HashSet<>();
    try (FlightClient client = FlightClient.builder(allocator, node.location()).build()) {
      for (FlightEndpoint e : client.getInfo(DESCRIPTOR).getEndpoints()) {
        e.getLocations().forEach(l -> used.add(l.getUri()));
      }
    }
    return used;
  }

  private static void put(QuiverServer node, BufferAllocator allocator, long first, int rows)
      throws Exception {
    try (QuiverClient client = QuiverClient.connect(node.location());
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, first, rows);
      client.put(TABLE, root);
    }
  }
}
