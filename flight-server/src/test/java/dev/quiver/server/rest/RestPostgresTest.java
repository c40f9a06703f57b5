package dev.quiver.server.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.flight.PostgresCatalogTest;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.PostgresExtension;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.rest.RESTCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The REST catalog over a PostgreSQL catalog (catalog.uri), as a cluster's nodes share it. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(180)
class RestPostgresTest {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dir;

  /** A node with a data folder of its own and the warehouse every node of the catalog shares. */
  private QuiverServer start(Path dataDir, String catalogUri) throws Exception {
    return PostgresCatalogTest.start(
        servers,
        POSTGRES,
        dataDir,
        catalogUri,
        "catalog.rest-port",
        "0",
        "storage.warehouse",
        dir.resolve("warehouse").toString());
  }

  @Test
  void restCommitsAndFlightPutsLandThroughPostgres(BufferAllocator allocator) throws Exception {
    POSTGRES.start();
    QuiverServer server = start(dir.resolve("data"), POSTGRES.newDatabase());
    RestCatalogTest.commitThroughRestAndPutThroughFlightAtOnce(server, allocator);
  }

  @Test
  void aTableCreatedThroughOneNodesCatalogIsSeenByTheOther() throws Exception {
    POSTGRES.start();
    String catalog = POSTGRES.newDatabase();
    QuiverServer first = start(dir.resolve("node1"), catalog);
    QuiverServer second = start(dir.resolve("node2"), catalog);
    try (RESTCatalog one = RestCatalogTest.client(first, Map.of());
        RESTCatalog two = RestCatalogTest.client(second, Map.of())) {
      one.createNamespace(Namespace.of("sales"), new HashMap<>());
      TableIdentifier orders = TableIdentifier.of("sales", "orders");
      Table table = one.createTable(orders, RestCatalogTest.SCHEMA);
      table.newAppend().appendFile(RestCatalogTest.dataFile(table, "a", 4)).commit();
      Table seen = two.loadTable(orders);
      seen.newAppend().appendFile(RestCatalogTest.dataFile(seen, "b", 6)).commit();
      assertThat(RestCatalogTest.totalRecords(one.loadTable(orders))).isEqualTo(10);
    }
  }
}
