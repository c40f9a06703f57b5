package dev.quiver.server.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.flight.IdTable;
import dev.quiver.server.table.LocalFileIO;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Iceberg's own REST client (RESTCatalog) against the server's REST catalog. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class RestCatalogTest {
  static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()));

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dir;

  /** A RESTCatalog of {@code server}'s REST catalog with {@code extra} properties. */
  static RESTCatalog client(QuiverServer server, Map<String, String> extra) {
    Map<String, String> props = new HashMap<>();
    props.put("uri", server.restCatalogUri().orElseThrow());
    // The client reads and writes manifests itself; the warehouse is a local folder here.
    props.put("io-impl", LocalFileIO.class.getName());
    props.putAll(extra);
    RESTCatalog catalog = new RESTCatalog();
    catalog.initialize("quiver", props);
    return catalog;
  }

  static DataFile dataFile(Table table, String name, long rows) {
    return DataFiles.builder(PartitionSpec.unpartitioned())
        .withPath(table.location() + "/data/" + name + ".parquet")
        .withFileSizeInBytes(1024)
        .withRecordCount(rows)
        .withFormat(FileFormat.PARQUET)
        .build();
  }

  static long totalRecords(Table table) {
    return Long.parseLong(table.currentSnapshot().summary().get("total-records"));
  }

  @Test
  void icebergsClientManagesNamespacesAndTables() throws Exception {
    QuiverServer server = servers.start(dir.resolve("data"), "catalog.rest-port", "0");
    assertThat(server.restCatalogUri())
        .hasValueSatisfying(u -> assertThat(u).startsWith("http://127.0.0.1:"));
    try (RESTCatalog catalog = client(server, Map.of())) {
      Namespace sales = Namespace.of("sales");
      // A mutable map: the client asks Map.of for a null key.
      catalog.createNamespace(sales, new HashMap<>(Map.of("owner", "ops")));
      assertThat(catalog.listNamespaces()).contains(sales);
      assertThat(catalog.loadNamespaceMetadata(sales)).containsEntry("owner", "ops");
      assertThat(catalog.namespaceExists(Namespace.of("nope"))).isFalse();

      TableIdentifier orders = TableIdentifier.of(sales, "orders");
      Table table = catalog.createTable(orders, SCHEMA);
      assertThat(table.location())
          .as("a folder of its own in the warehouse")
          .startsWith(
              dir.resolve("data").resolve("warehouse").resolve("sales").toUri() + "orders-");
      assertThat(table.properties())
          .as("Quiver's table defaults, as a put's table has")
          .containsEntry(TableProperties.COMMIT_NUM_RETRIES, "50");
      assertThatThrownBy(() -> catalog.createTable(orders, SCHEMA))
          .isInstanceOf(AlreadyExistsException.class)
          .hasMessageContaining("sales.orders");

      table.newAppend().appendFile(dataFile(table, "a", 7)).commit();
      table.newAppend().appendFile(dataFile(table, "b", 5)).commit();
      assertThat(totalRecords(catalog.loadTable(orders))).isEqualTo(12);
      assertThat(catalog.tableExists(orders)).isTrue();
      assertThat(catalog.listTables(sales)).containsExactly(orders);
      assertThat(catalog.listViews(sales)).as("no views, and the call works").isEmpty();

      // A staged create: nothing exists until the transaction commits, with its data.
      TableIdentifier staged = TableIdentifier.of(sales, "staged");
      Transaction create = catalog.buildTable(staged, SCHEMA).createTransaction();
      assertThat(catalog.tableExists(staged)).isFalse();
      create.newAppend().appendFile(dataFile(create.table(), "s", 3)).commit();
      create.commitTransaction();
      assertThat(totalRecords(catalog.loadTable(staged))).isEqualTo(3);

      TableIdentifier renamed = TableIdentifier.of(sales, "orders_2026");
      catalog.renameTable(orders, renamed);
      assertThat(catalog.tableExists(orders)).isFalse();
      Table moved = catalog.loadTable(renamed);
      assertThat(totalRecords(moved)).isEqualTo(12);

      String metadata = ((HasTableOperations) moved).operations().current().metadataFileLocation();
      assertThat(catalog.dropTable(renamed, false)).isTrue();
      assertThatThrownBy(() -> catalog.loadTable(renamed))
          .isInstanceOf(NoSuchTableException.class)
          .hasMessageContaining("sales.orders_2026");
      TableIdentifier back = TableIdentifier.of(sales, "back");
      assertThat(totalRecords(catalog.registerTable(back, metadata))).isEqualTo(12);

      assertThat(catalog.dropTable(back, true)).isTrue();
      assertThat(LocalFileIO.toPath(metadata)).as("a purge deletes the metadata").doesNotExist();
      assertThat(catalog.dropTable(staged, true)).isTrue();
      assertThat(catalog.dropNamespace(sales)).isTrue();
      assertThat(catalog.listNamespaces()).doesNotContain(sales);
    }
  }

  @Test
  void restCommitsAndFlightPutsAtTheSameTimeAllLand(BufferAllocator allocator) throws Exception {
    QuiverServer server = servers.start(dir.resolve("data"), "catalog.rest-port", "0");
    commitThroughRestAndPutThroughFlightAtOnce(server, allocator);
  }

  /**
   * Eight REST clients append three times each while two Flight clients put three times each, all
   * to one table; every row of every commit reads back through Flight.
   */
  static void commitThroughRestAndPutThroughFlightAtOnce(
      QuiverServer server, BufferAllocator allocator) throws Exception {
    FlightDescriptor events = FlightDescriptor.path("lake", "events");
    TableIdentifier ident = TableIdentifier.of("lake", "events");
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        RESTCatalog catalog = client(server, Map.of())) {
      IdTable.put(flight, allocator, events, 0, 100);
      // Each REST commit appends the put's own Parquet file once more: 100 readable rows each.
      Table table = catalog.loadTable(ident);
      DataFile file = table.currentSnapshot().addedDataFiles(table.io()).iterator().next();
      assertThat(file.recordCount()).isEqualTo(100);

      int restThreads = 8;
      int commitsEach = 3;
      int puts = 6;
      ExecutorService pool = Executors.newFixedThreadPool(restThreads + 2);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < restThreads; t++) {
          done.add(
              pool.submit(
                  () -> {
                    Table mine = catalog.loadTable(ident);
                    for (int i = 0; i < commitsEach; i++) {
                      mine.newAppend().appendFile(file).commit();
                    }
                    return null;
                  }));
        }
        for (int t = 0; t < 2; t++) {
          int first = 1000 + t * 1000;
          done.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < puts / 2; i++) {
                      IdTable.put(flight, allocator, events, first + i * 10, 10);
                    }
                    return null;
                  }));
        }
        for (Future<?> f : done) {
          f.get(90, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
      long restRows = (long) restThreads * commitsEach * 100;
      long expectedRows = 100 + restRows + puts * 10L;
      assertThat(totalRecords(catalog.loadTable(ident))).isEqualTo(expectedRows);
      long putIds = 0;
      for (int t = 0; t < 2; t++) {
        for (int i = 0; i < puts / 2; i++) {
          for (int r = 0; r < 10; r++) {
            putIds += 1000 + t * 1000 + i * 10 + r;
          }
        }
      }
      assertThat(IdTable.sumOfIds(flight, events))
          .as("every REST commit and every put read back through Flight")
          .isEqualTo(IdTable.sum(100) * (1 + restThreads * commitsEach) + putIds);
    }
  }

  @Test
  void aTableCreatedThroughRestIsServedByFlight(BufferAllocator allocator) throws Exception {
    QuiverServer server = servers.start(dir.resolve("data"), "catalog.rest-port", "0");
    FlightDescriptor source = FlightDescriptor.path("lake", "source");
    FlightDescriptor made = FlightDescriptor.path("lake", "made_by_rest");
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        RESTCatalog catalog = client(server, Map.of())) {
      // Real Parquet with field id 1 for id: a put's file, copied into the REST-made table (whose
      // commits may name only files under its own location, as an engine writes them).
      IdTable.put(flight, allocator, source, 0, 100);
      Table put = catalog.loadTable(TableIdentifier.of("lake", "source"));
      DataFile written = put.currentSnapshot().addedDataFiles(put.io()).iterator().next();
      Table table =
          catalog.createTable(
              TableIdentifier.of("lake", "made_by_rest"),
              new Schema(Types.NestedField.optional(1, "id", Types.LongType.get())));
      assertThat(table.properties()).doesNotContainKey("quiver.arrow-schema");
      Path copy = LocalFileIO.toPath(table.location()).resolve("data/copied.parquet");
      java.nio.file.Files.createDirectories(copy.getParent());
      java.nio.file.Files.copy(LocalFileIO.toPath(written.location()), copy);
      DataFile file =
          DataFiles.builder(PartitionSpec.unpartitioned())
              .copy(written)
              .withPath(LocalFileIO.toLocation(copy))
              .build();
      table.newAppend().appendFile(file).commit();
      table.newAppend().appendFile(file).commit();

      List<String> listed = new ArrayList<>();
      flight
          .listFlights(org.apache.arrow.flight.Criteria.ALL)
          .forEach(info -> listed.add(String.join(".", info.getDescriptor().getPath())));
      assertThat(listed).contains("lake.made_by_rest", "lake.source");
      assertThat(flight.getSchema(made).getSchema().getFields())
          .extracting(f -> f.getName() + " " + f.getType())
          .containsExactly("id Int(64, true)");
      assertThat(IdTable.sumOfIds(flight, made))
          .as("both REST commits read back through Flight")
          .isEqualTo(2 * IdTable.sum(100));
    }
  }

  @Test
  void aRestCatalogBeyondLoopbackWithoutAuthenticationIsRefused() {
    assertThatThrownBy(
            () ->
                servers.start(
                    dir.resolve("data"), "catalog.rest-port", "0", "catalog.rest-host", "0.0.0.0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "Refusing to serve the Iceberg REST catalog on 0.0.0.0 (catalog.rest-host) without"
                + " authentication");
  }

  @Test
  void theRestCatalogIsOffByDefault() throws Exception {
    QuiverServer server = servers.start(dir.resolve("data"));
    assertThat(server.restCatalogUri()).isEmpty();
  }
}
