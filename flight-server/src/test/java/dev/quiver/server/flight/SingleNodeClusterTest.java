package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.QuiverActions;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Iterator;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the embedded SQLite catalog the cluster is this node alone: it heartbeats into catalog.db,
 * lists itself, plans endpoints without locations, and removes its row when it leaves.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SingleNodeClusterTest {
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;

  @Test
  void anEmbeddedNodeIsAClusterOfOne(BufferAllocator allocator) throws Exception {
    String nodeId;
    QuiverServer server =
        servers.start(dataDir, "memory.total", "256MB", "flight.endpoint-target-size", "1KB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      nodeId = server.cluster().id();
      for (int p = 0; p < 3; p++) {
        IdTable.put(client, allocator, TABLE, p * 1000L, 1000);
      }
      assertThat(client.getInfo(TABLE).getEndpoints())
          .hasSizeGreaterThanOrEqualTo(2)
          .allMatch(e -> e.getLocations().isEmpty());
      Iterator<Result> results = client.doAction(new Action(QuiverActions.SERVER_INFO));
      JsonNode info = new ObjectMapper().readTree(results.next().getBody());
      results.forEachRemaining(r -> {});
      assertThat(info.path("nodes")).hasSize(1);
      assertThat(info.path("nodes").get(0).path("node_id").asText()).isEqualTo(nodeId);
      assertThat(info.path("nodes").get(0).path("location").asText()).isEqualTo(server.uri());
      assertThat(rows(nodeId)).isEqualTo(1);
    }
    // Shutting down, a node leaves the cluster first: its row goes at once.
    server.cluster().close();
    assertThat(rows(nodeId)).isZero();
  }

  private int rows(String nodeId) throws Exception {
    try (Connection db =
            DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("catalog.db"));
        Statement query = db.createStatement();
        ResultSet rows =
            query.executeQuery(
                "SELECT count(*) FROM quiver_nodes WHERE node_id = '" + nodeId + "'")) {
      rows.next();
      return rows.getInt(1);
    }
  }
}
