package dev.quiver.it;

import static dev.quiver.it.AllTypesTable.COLUMNS;
import static dev.quiver.it.AllTypesTable.assertRows;
import static dev.quiver.it.AllTypesTable.fromTrino;
import static dev.quiver.it.AllTypesTable.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.ClientOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.server.security.PasswordHash;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.PostgresExtension;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trino 476 and Quiver on the same tables: one Quiver server on a PostgreSQL catalog and an S3
 * warehouse (s3proxy), one Trino with an Iceberg catalog on the same database and bucket. Trino
 * reads every common type Quiver writes exactly and sees its snapshots; Quiver reads, through DoGet
 * and Flight SQL, exactly what Trino inserts, deletes and creates. The same Trino also opens
 * Quiver's Iceberg REST catalog (catalog.rest-port), without and with a login.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TrinoIT {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();
  @RegisterExtension static final TrinoServer TRINO = new TrinoServer();

  private static final String BUCKET = "warehouse";
  private static final String CATALOG = "quiver_s3";
  private static final String NS = "trino_it";

  @TempDir static Path root;
  private static S3ProxyProcess s3;
  private static QuiverServerProcess quiver;

  @BeforeAll
  static void startServers() throws Exception {
    long start = System.nanoTime();
    // Quiver starts first: Trino never creates the JDBC catalog's own tables.
    s3 = S3ProxyProcess.start(root.resolve("s3"), BUCKET);
    String catalog = POSTGRES.newDatabase();
    quiver =
        QuiverServerProcess.start(
            root.resolve("quiver"),
            List.of(
                "-Daws.accessKeyId=" + S3ProxyProcess.ACCESS_KEY,
                "-Daws.secretAccessKey=" + S3ProxyProcess.SECRET_KEY),
            "--catalog.uri",
            catalog,
            "--catalog.user",
            POSTGRES.user(),
            "--storage.warehouse",
            "s3://" + BUCKET + "/wh",
            "--storage.s3.endpoint",
            s3.endpoint(),
            "--storage.s3.path-style-access",
            "true");
    Duration trinoStart = TRINO.awaitStarted();
    TRINO.createCatalog(
        CATALOG,
        catalogOn(
            catalog,
            "s3://" + BUCKET + "/wh",
            Map.of(
                "fs.native-s3.enabled",
                "true",
                "s3.endpoint",
                s3.endpoint(),
                "s3.path-style-access",
                "true",
                "s3.region",
                "us-east-1",
                "s3.aws-access-key",
                S3ProxyProcess.ACCESS_KEY,
                "s3.aws-secret-key",
                S3ProxyProcess.SECRET_KEY)));
    System.out.printf(
        "TrinoIT: Trino started in %d ms; PostgreSQL, s3proxy, Quiver and Trino ready %d ms after"
            + " the class's first server%n",
        trinoStart.toMillis(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  @AfterAll
  static void stopServers() throws Exception {
    if (quiver != null) {
      quiver.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void trinoReadsEveryTypeQuiverWroteAndItsSnapshots(BufferAllocator allocator) {
    TableId table = TableId.of(NS, "all_types");
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, table, 0, 2000);
      put(client, allocator, table, 2000, 1500);
      TrinoClient trino = TRINO.client(CATALOG, NS);

      assertRows(
          "Trino's SELECT",
          fromTrino(trino.execute("SELECT " + COLUMNS + " FROM all_types")),
          rows(0, 3500));

      List<Long> snapshots =
          client.snapshots(table).stream().map(SnapshotInfo::snapshotId).toList();
      assertThat(snapshots).hasSize(2);
      assertThat(
              longs(
                  trino.execute(
                      "SELECT snapshot_id FROM \"all_types$snapshots\" ORDER BY committed_at")))
          .as("Trino's $snapshots")
          .isEqualTo(snapshots);
      assertRows(
          "Trino's FOR VERSION AS OF the first snapshot",
          fromTrino(
              trino.execute(
                  "SELECT " + COLUMNS + " FROM all_types FOR VERSION AS OF " + snapshots.get(0))),
          rows(0, 2000));
    }
  }

  @Test
  void quiverReadsTrinoInsertsExactly(BufferAllocator allocator) throws Exception {
    TableId table = TableId.of(NS, "inserted");
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, table, 0, 100);

      // Every special value of the table's row pattern: NaN, infinities, -0.0, bounds, nulls.
      TrinoClient trino = TRINO.client(CATALOG, NS);
      trino.execute(
          "INSERT INTO inserted VALUES "
              + LongStream.range(100_000, 100_040)
                  .mapToObj(AllTypesTable::trinoValues)
                  .collect(Collectors.joining(", ")));

      List<List<Object>> expected = new ArrayList<>(rows(0, 100));
      expected.addAll(rows(100_000, 40));
      assertThat(client.snapshots(table)).hasSize(2);
      assertRows("Quiver's DoGet", AllTypesTable.scan(client, table), expected);
      assertRows(
          "Quiver's Flight SQL",
          sql(allocator, "SELECT " + COLUMNS + " FROM " + NS + ".inserted"),
          expected);
    }
  }

  @Test
  void rowsTrinoDeletesAreGoneFromEveryQuiverReadPath(BufferAllocator allocator) throws Exception {
    TableId table = TableId.of(NS, "deleted");
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, table, 0, 1000);

      // Unpartitioned, a row predicate: Trino writes position deletes, the data file stays.
      TRINO.client(CATALOG, NS).execute("DELETE FROM deleted WHERE id % 3 = 0 OR id > 900");

      List<List<Object>> expected =
          rows(0, 1000).stream()
              .filter(row -> (Long) row.get(0) % 3 != 0 && (Long) row.get(0) <= 900)
              .toList();
      assertRows(
          "Quiver's DoGet after Trino's DELETE", AllTypesTable.scan(client, table), expected);
      assertRows(
          "Quiver's Flight SQL after Trino's DELETE",
          sql(allocator, "SELECT " + COLUMNS + " FROM " + NS + ".deleted"),
          expected);
      assertThat(sql(allocator, "SELECT count(*) FROM " + NS + ".deleted"))
          .containsExactly(List.of((long) expected.size()));
    }
  }

  @Test
  void quiverServesTablesTrinoCreated(BufferAllocator allocator) throws Exception {
    TableId source = TableId.of(NS, "source");
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, source, 0, 300);
      TrinoClient trino = TRINO.client(CATALOG, NS);
      trino.execute("CREATE TABLE ctas AS SELECT " + COLUMNS + " FROM source WHERE id < 200");
      trino.execute(
          "CREATE TABLE created (id bigint, name varchar, amount decimal(12,2),"
              + " at timestamp(6) with time zone)");
      trino.execute(
          "INSERT INTO created VALUES (1, 'one', DECIMAL '1.50',"
              + " TIMESTAMP '2026-12-07 10:00:00.000001 UTC'), (2, NULL, NULL, NULL)");

      assertThat(client.listTables(NS))
          .contains(source, TableId.of(NS, "ctas"), TableId.of(NS, "created"));
      assertRows(
          "Quiver's DoGet of Trino's CTAS",
          AllTypesTable.scan(client, TableId.of(NS, "ctas")),
          rows(0, 200));
      assertRows(
          "Quiver's Flight SQL of Trino's CTAS",
          sql(allocator, "SELECT " + COLUMNS + " FROM " + NS + ".ctas"),
          rows(0, 200));
      List<List<Object>> created =
          List.of(
              List.of(
                  1L, "one", new BigDecimal("1.50"), Instant.parse("2026-12-07T10:00:00.000001Z")),
              Arrays.asList(2L, null, null, null));
      assertThat(sortById(AllTypesTable.scan(client, TableId.of(NS, "created"))))
          .isEqualTo(created);
      assertThat(sortById(sql(allocator, "SELECT * FROM " + NS + ".created"))).isEqualTo(created);
    }
  }

  @Test
  void trinoAndQuiverShareATableOnALocalWarehouse(BufferAllocator allocator) throws Exception {
    String catalog = POSTGRES.newDatabase();
    Path warehouse = root.resolve("local-warehouse");
    TableId table = TableId.of(NS, "local_table");
    try (QuiverServerProcess local =
            QuiverServerProcess.start(
                root.resolve("quiver-local"),
                "--catalog.uri",
                catalog,
                "--catalog.user",
                POSTGRES.user(),
                "--storage.warehouse",
                warehouse.toString());
        QuiverClient client =
            QuiverClient.connect(
                local.location(), ClientOptions.builder().parentAllocator(allocator).build())) {
      put(client, allocator, table, 0, 500);
      TRINO.createCatalog(
          "quiver_local",
          catalogOn(
              catalog,
              warehouse.toUri().toString(),
              // Trino resolves a file: path under local.location, so the root: not the warehouse.
              Map.of("fs.native-local.enabled", "true", "local.location", "/")));
      TrinoClient trino = TRINO.client("quiver_local", NS);

      assertRows(
          "Trino's SELECT on a local warehouse",
          fromTrino(trino.execute("SELECT " + COLUMNS + " FROM local_table")),
          rows(0, 500));
      trino.execute("INSERT INTO local_table VALUES " + AllTypesTable.trinoValues(100_003));
      List<List<Object>> expected = new ArrayList<>(rows(0, 500));
      expected.add(AllTypesTable.row(100_003));
      assertRows(
          "Quiver's DoGet on a local warehouse", AllTypesTable.scan(client, table), expected);
    }
  }

  @Test
  void trinoThroughQuiversRestCatalog(BufferAllocator allocator) throws Exception {
    int restPort = freePort();
    TableId table = TableId.of(NS, "rest_table");
    try (QuiverServerProcess rest =
            QuiverServerProcess.start(
                root.resolve("quiver-rest"), "--catalog.rest-port", String.valueOf(restPort));
        QuiverClient client =
            QuiverClient.connect(
                rest.location(), ClientOptions.builder().parentAllocator(allocator).build())) {
      put(client, allocator, table, 0, 400);
      put(client, allocator, table, 400, 300);
      TRINO.createCatalog("quiver_rest", restCatalog(restPort, Map.of()));
      TrinoClient trino = TRINO.client("quiver_rest", NS);

      assertThat(trino.execute("SHOW TABLES").rows())
          .extracting(row -> row.get(0).asText())
          .contains("rest_table");
      assertRows(
          "Trino's SELECT through REST",
          fromTrino(trino.execute("SELECT " + COLUMNS + " FROM rest_table")),
          rows(0, 700));
      long first = client.snapshots(table).get(0).snapshotId();
      assertRows(
          "Trino's FOR VERSION AS OF through REST",
          fromTrino(
              trino.execute("SELECT " + COLUMNS + " FROM rest_table FOR VERSION AS OF " + first)),
          rows(0, 400));

      trino.execute("INSERT INTO rest_table VALUES " + AllTypesTable.trinoValues(100_007));
      List<List<Object>> expected = new ArrayList<>(rows(0, 700));
      expected.add(AllTypesTable.row(100_007));
      assertRows("Quiver's DoGet after a REST INSERT", AllTypesTable.scan(client, table), expected);

      trino.execute(
          "CREATE TABLE rest_ctas AS SELECT " + COLUMNS + " FROM rest_table WHERE id < 100");
      assertThat(client.listTables(NS)).contains(TableId.of(NS, "rest_ctas"));
      assertRows(
          "Quiver's DoGet of a table Trino created through REST",
          AllTypesTable.scan(client, TableId.of(NS, "rest_ctas")),
          rows(0, 100));
    }
  }

  @Test
  void trinoLogsInToQuiversRestCatalogAndItsGrantsApply(BufferAllocator allocator)
      throws Exception {
    int restPort = freePort();
    Path users = root.resolve("rest-users");
    Files.writeString(
        users,
        "alice "
            + PasswordHash.create("alice-secret".toCharArray(), PasswordHash.MIN_ITERATIONS)
            + " "
            + NS
            + "=read,write\n"
            + "bob "
            + PasswordHash.create("bob-secret".toCharArray(), PasswordHash.MIN_ITERATIONS)
            + " "
            + NS
            + "=read\n",
        StandardCharsets.UTF_8);
    TableId table = TableId.of(NS, "secured");
    try (QuiverServerProcess rest =
            QuiverServerProcess.start(
                root.resolve("quiver-rest-auth"),
                "--catalog.rest-port",
                String.valueOf(restPort),
                "--security.users-file",
                users.toString());
        QuiverClient alice =
            QuiverClient.connect(
                rest.location(),
                ClientOptions.builder()
                    .parentAllocator(allocator)
                    .credentials("alice", "alice-secret")
                    .build())) {
      put(alice, allocator, table, 0, 200);
      TRINO.createCatalog("quiver_rest_alice", restCatalog(restPort, oauth("alice:alice-secret")));
      TRINO.createCatalog("quiver_rest_bob", restCatalog(restPort, oauth("bob:bob-secret")));
      TRINO.createCatalog("quiver_rest_mallory", restCatalog(restPort, oauth("alice:wrong")));

      TrinoClient asAlice = TRINO.client("quiver_rest_alice", NS);
      assertRows(
          "Trino logged in as alice",
          fromTrino(asAlice.execute("SELECT " + COLUMNS + " FROM secured")),
          rows(0, 200));
      asAlice.execute("INSERT INTO secured VALUES " + AllTypesTable.trinoValues(100_011));
      List<List<Object>> expected = new ArrayList<>(rows(0, 200));
      expected.add(AllTypesTable.row(100_011));
      assertRows("Quiver's DoGet after alice's INSERT", AllTypesTable.scan(alice, table), expected);

      TrinoClient asBob = TRINO.client("quiver_rest_bob", NS);
      assertThat(fromTrino(asBob.execute("SELECT " + COLUMNS + " FROM secured"))).hasSize(201);
      assertThatThrownBy(
              () -> asBob.execute("INSERT INTO secured VALUES " + AllTypesTable.trinoValues(1)))
          .as("bob may read, not write")
          .isInstanceOf(TrinoClient.TrinoQueryException.class)
          .hasMessageContaining("write");
      assertThatThrownBy(
              () -> TRINO.client("quiver_rest_mallory", NS).execute("SELECT id FROM secured"))
          .as("a wrong password gets no token")
          .isInstanceOf(TrinoClient.TrinoQueryException.class);
      assertThat(AllTypesTable.scan(alice, table)).hasSize(201);
    }
  }

  /** Trino's Iceberg catalog properties for Quiver's REST catalog on a local warehouse. */
  private static Map<String, String> restCatalog(int port, Map<String, String> security) {
    Map<String, String> properties = new HashMap<>(security);
    properties.put("iceberg.catalog.type", "rest");
    properties.put("iceberg.rest-catalog.uri", "http://127.0.0.1:" + port);
    properties.put("fs.native-local.enabled", "true");
    properties.put("local.location", "/");
    return properties;
  }

  /** Trino logs in to the REST catalog with OAuth2 client credentials {@code user:password}. */
  private static Map<String, String> oauth(String credential) {
    return Map.of(
        "iceberg.rest-catalog.security",
        "OAUTH2",
        "iceberg.rest-catalog.oauth2.credential",
        credential);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * Trino's Iceberg catalog properties for Quiver's catalog database {@code catalogUri}, with the
   * warehouse's file system properties.
   */
  private static Map<String, String> catalogOn(
      String catalogUri, String warehouse, Map<String, String> fileSystem) {
    Map<String, String> properties = new HashMap<>(fileSystem);
    properties.put("iceberg.catalog.type", "jdbc");
    properties.put("iceberg.jdbc-catalog.driver-class", "org.postgresql.Driver");
    properties.put("iceberg.jdbc-catalog.connection-url", catalogUri);
    properties.put("iceberg.jdbc-catalog.connection-user", POSTGRES.user());
    properties.put("iceberg.jdbc-catalog.connection-password", "unused");
    // Quiver's catalog.name (default quiver): part of every row's key in the database.
    properties.put("iceberg.jdbc-catalog.catalog-name", "quiver");
    properties.put("iceberg.jdbc-catalog.schema-version", "V1");
    properties.put("iceberg.jdbc-catalog.default-warehouse-dir", warehouse);
    return properties;
  }

  private static QuiverClient connect(BufferAllocator allocator) {
    return QuiverClient.connect(
        quiver.location(), ClientOptions.builder().parentAllocator(allocator).build());
  }

  private static void put(
      QuiverClient client, BufferAllocator allocator, TableId table, long first, int count) {
    AllTypesTable.put(client, allocator, table, AllTypesTable.SCHEMA, first, count);
  }

  /** Every row {@code query} returns through Arrow's Flight SQL client, canonical. */
  private static List<List<Object>> sql(BufferAllocator allocator, String query) throws Exception {
    List<List<Object>> rows = new ArrayList<>();
    try (FlightClient flight = FlightClient.builder(allocator, quiver.location()).build()) {
      FlightSqlClient client = new FlightSqlClient(flight);
      FlightInfo info = client.execute(query);
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        try (FlightStream stream = client.getStream(endpoint.getTicket())) {
          while (stream.next()) {
            rows.addAll(AllTypesTable.fromArrow(stream.getRoot()));
          }
        }
      }
    }
    return rows;
  }

  private static List<List<Object>> sortById(List<List<Object>> rows) {
    List<List<Object>> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparingLong(row -> (Long) row.get(0)));
    return sorted;
  }

  private static List<Long> longs(TrinoClient.Result result) {
    return result.rows().stream().map(row -> row.get(0)).map(JsonNode::asLong).toList();
  }
}
