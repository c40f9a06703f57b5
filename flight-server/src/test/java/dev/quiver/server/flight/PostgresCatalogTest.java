package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.PostgresExtension;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store on a PostgreSQL catalog (catalog.uri): puts commit through it and read back, eight
 * concurrent writers to one table lose nothing, a lost database fails calls UNAVAILABLE naming it
 * until it is back, and an unreachable one stops the start.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public class PostgresCatalogTest {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();

  private static final TableId TABLE = TableId.of("ns", "hot");
  private static final FlightDescriptor DESCRIPTOR = FlightDescriptor.path("ns", "hot");

  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private String catalogUri;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    POSTGRES.start();
    catalogUri = POSTGRES.newDatabase();
    server = start(servers, dataDir, catalogUri);
  }

  /** Starts a server on the PostgreSQL catalog {@code catalogUri}, with {@code more} settings. */
  static QuiverServer start(QuiverServers servers, Path dataDir, String catalogUri, String... more)
      throws Exception {
    return start(servers, POSTGRES, dataDir, catalogUri, more);
  }

  /**
   * Starts a server on the PostgreSQL catalog {@code catalogUri} of {@code postgres}, with {@code
   * more} settings.
   */
  public static QuiverServer start(
      QuiverServers servers,
      PostgresExtension postgres,
      Path dataDir,
      String catalogUri,
      String... more)
      throws Exception {
    List<String> settings =
        new ArrayList<>(
            List.of(
                "memory.total",
                "256MB",
                "catalog.uri",
                catalogUri,
                "catalog.user",
                postgres.user(),
                "catalog.password",
                "unused"));
    settings.addAll(List.of(more));
    return servers.start(dataDir, settings.toArray(String[]::new));
  }

  @Test
  void aPutCommitsThroughPostgresAndReadsBack(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, 0, 1000);
      PutReceipt first = client.put(TABLE, root);
      IdTable.fill(root, 1000, 500);
      PutReceipt second = client.put(TABLE, root);
      assertThat(first.rows()).isEqualTo(1000);
      assertThat(second.rows()).isEqualTo(500);
      assertThat(client.listTables()).containsExactly(TABLE);
      assertThat(client.snapshots(TABLE)).hasSize(2);
    }
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(IdTable.sumOfIds(flight, DESCRIPTOR)).isEqualTo(IdTable.sum(1500));
    }
    // The table is a row of the JdbcCatalog in PostgreSQL, under catalog.name's default.
    try (Connection db = DriverManager.getConnection(catalogUri, POSTGRES.user(), "");
        Statement query = db.createStatement();
        ResultSet rows =
            query.executeQuery(
                "SELECT catalog_name, table_namespace, table_name FROM iceberg_tables")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).isEqualTo("quiver");
      assertThat(rows.getString(2)).isEqualTo("ns");
      assertThat(rows.getString(3)).isEqualTo("hot");
      assertThat(rows.next()).isFalse();
    }
  }

  @Test
  void aTransactionOverTwoTablesCommitsBothInOneDatabaseTransaction(BufferAllocator allocator)
      throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        org.apache.arrow.flight.sql.FlightSqlClient sql =
            new org.apache.arrow.flight.sql.FlightSqlClient(flight)) {
      sql.executeUpdate("CREATE TABLE ns.a (id BIGINT)");
      sql.executeUpdate("CREATE TABLE ns.b (id BIGINT)");
      sql.executeUpdate("INSERT INTO ns.a VALUES (1), (2)");
      org.apache.arrow.flight.sql.FlightSqlClient.Transaction txn = sql.beginTransaction();
      sql.executeUpdate("DELETE FROM ns.a WHERE id = 1", txn);
      sql.executeUpdate("INSERT INTO ns.b VALUES (3)", txn);
      String before = metadataLocations();

      sql.commit(txn);

      String after = metadataLocations();
      assertThat(after.split(",")).hasSize(2);
      assertThat(after.split(",")[0]).isNotEqualTo(before.split(",")[0]);
      assertThat(after.split(",")[1]).isNotEqualTo(before.split(",")[1]);
      try (QuiverClient client = QuiverClient.connect(server.location())) {
        assertThat(client.snapshots(TableId.of("ns", "a"))).hasSize(2);
        assertThat(client.snapshots(TableId.of("ns", "b"))).hasSize(1);
        assertThat(client.snapshots(TableId.of("ns", "b")).get(0).totalRecords()).isEqualTo(1);
        assertThat(client.snapshots(TableId.of("ns", "a")).get(1).totalRecords()).isEqualTo(1);
      }
    }
  }

  /** The metadata_location of tables ns.a and ns.b in the catalog database, comma-separated. */
  private String metadataLocations() throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection connection = DriverManager.getConnection(catalogUri, POSTGRES.user(), "");
        Statement query = connection.createStatement();
        ResultSet rows =
            query.executeQuery(
                "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'ns'"
                    + " AND table_name IN ('a', 'b') ORDER BY table_name")) {
      while (rows.next()) {
        out.add(rows.getString(1));
      }
    }
    return String.join(",", out);
  }

  @Test
  void eightConcurrentWritersToOneTableLoseNoRow(BufferAllocator allocator) throws Exception {
    int writers = 8;
    int putsEach = 5;
    int rows = 100;
    try (QuiverClient client = QuiverClient.connect(server.location());
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, 0, rows);
      client.put(TABLE, root); // the table exists before the race
    }
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<PutReceipt> receipts = new ArrayList<>();
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<PutReceipt>>> futures = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        futures.add(
            pool.submit(
                () -> {
                  List<PutReceipt> mine = new ArrayList<>();
                  try (BufferAllocator child =
                          allocator.newChildAllocator("writer-" + writer, 0, Long.MAX_VALUE);
                      VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, child)) {
                    go.await();
                    for (int p = 0; p < putsEach; p++) {
                      long first = rows + (long) (writer * putsEach + p) * rows;
                      IdTable.fill(root, first, rows);
                      mine.add(client.put(TABLE, root));
                    }
                  }
                  return mine;
                }));
      }
      go.countDown();
      for (Future<List<PutReceipt>> f : futures) {
        receipts.addAll(f.get(90, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    Set<Long> snapshots = new HashSet<>();
    receipts.forEach(r -> snapshots.add(r.snapshotId()));
    assertThat(receipts).hasSize(writers * putsEach).allMatch(r -> r.rows() == rows);
    assertThat(snapshots).as("every put's receipt names its own snapshot").hasSize(receipts.size());
    long total = rows + (long) writers * putsEach * rows;
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(IdTable.sumOfIds(flight, DESCRIPTOR)).isEqualTo(IdTable.sum(total));
      assertThat(flight.getInfo(DESCRIPTOR).getRecords()).isEqualTo(total);
    }
  }

  @Test
  void concurrentFirstPutsToANewTableAllSucceed(BufferAllocator allocator) throws Exception {
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try (QuiverClient client = QuiverClient.connect(server.location())) {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<PutReceipt>> futures = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        long first = w * 100L;
        futures.add(
            pool.submit(
                () -> {
                  try (BufferAllocator child =
                          allocator.newChildAllocator("writer-" + first, 0, Long.MAX_VALUE);
                      VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, child)) {
                    IdTable.fill(root, first, 100);
                    go.await();
                    return client.put(TABLE, root);
                  }
                }));
      }
      go.countDown();
      for (Future<PutReceipt> f : futures) {
        assertThat(f.get(90, TimeUnit.SECONDS).rows()).isEqualTo(100);
      }
    } finally {
      pool.shutdownNow();
    }
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(IdTable.sumOfIds(flight, DESCRIPTOR)).isEqualTo(IdTable.sum(writers * 100L));
    }
  }

  @Test
  void aLostCatalogFailsCallsUnavailableUntilItIsBack(BufferAllocator allocator) throws Exception {
    try (QuiverClient client = QuiverClient.connect(server.location());
        VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, 0, 100);
      client.put(TABLE, root);
      POSTGRES.stop();
      try {
        assertThatThrownBy(() -> client.schema(TABLE))
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.CATALOG_UNAVAILABLE))
            .hasMessageContaining("Cannot load table ns.hot")
            .hasMessageContaining("the catalog database " + catalogUri + " is unavailable");
        IdTable.fill(root, 100, 100);
        assertThatThrownBy(() -> client.put(TABLE, root))
            .isInstanceOfSatisfying(
                QuiverException.class,
                e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.CATALOG_UNAVAILABLE))
            .hasMessageContaining(catalogUri);
      } finally {
        POSTGRES.start();
      }
      // Back: the same node serves and commits again, without a restart.
      IdTable.fill(root, 100, 100);
      assertThat(client.put(TABLE, root).rows()).isEqualTo(100);
    }
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(IdTable.sumOfIds(flight, DESCRIPTOR)).isEqualTo(IdTable.sum(200));
    }
  }

  @Test
  void anUnreachableCatalogStopsTheStartWithOneLineNamingIt(@TempDir Path other) throws Exception {
    int closed;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = probe.getLocalPort();
    }
    String unreachable = "jdbc:postgresql://127.0.0.1:" + closed + "/nowhere";
    assertThatThrownBy(() -> start(servers, other, unreachable))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> {
              assertThat(e.code()).isEqualTo(QuiverErrorCode.CATALOG_UNAVAILABLE);
              assertThat(e.getMessage()).doesNotContain("\n");
            })
        .hasMessageStartingWith("Cannot open the catalog database catalog.uri=" + unreachable)
        .hasMessageContaining("refused");
  }

  @Test
  void aNodeWhoseWarehouseDiffersFromItsCatalogsRefusesToStartNamingBoth(@TempDir Path other)
      throws Exception {
    String tables = dataDir.toAbsolutePath().normalize().resolve("warehouse").toString();
    Path elsewhere = other.resolve("elsewhere").toAbsolutePath().normalize();
    assertThatThrownBy(
            () ->
                start(
                    servers,
                    other.resolve("node"),
                    catalogUri,
                    "storage.warehouse",
                    elsewhere.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("storage.warehouse is " + elsewhere)
        .hasMessageContaining("live in " + tables)
        .hasMessageContaining("--storage.warehouse " + tables);
    // The same warehouse is accepted: a second node of the same cluster (closed after the test).
    QuiverServer second =
        start(
            servers,
            other.resolve("second"),
            catalogUri,
            "storage.warehouse",
            dataDir.resolve("warehouse").toString());
    assertThat(second.location()).isNotEqualTo(server.location());
  }
}
