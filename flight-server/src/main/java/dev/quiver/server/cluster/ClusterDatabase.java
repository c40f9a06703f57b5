package dev.quiver.server.cluster;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.CatalogSettings;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The cluster's own rows in the catalog database: the nodes and their heartbeats ({@code
 * quiver_nodes}), and in {@code quiver_cluster_keys} the key that signs bearer tokens and the
 * warehouse the catalog's tables live in; all scoped by catalog.name. Creates the tables if absent.
 *
 * <p>Each operation opens its own connection, so a database that restarts is used again at the next
 * heartbeat. On the embedded SQLite catalog the rows sit in {@code catalog.db} and the cluster is
 * this node alone. Thread-safe.
 */
public final class ClusterDatabase {
  private static final String TOKEN_KEY = "token-hmac-sha256";
  private static final String WAREHOUSE_KEY = "warehouse";
  private static final int CREATE_ATTEMPTS = 3;

  private final String url;
  private final Properties connection;
  private final String catalogName;
  private final String printableUri;

  /** One node's row. */
  public record Node(String id, String uri, Instant startedAt, Instant heartbeatAt) {
    public Node {
      requireNonNull(id, "id is null");
      requireNonNull(uri, "uri is null");
      requireNonNull(startedAt, "startedAt is null");
      requireNonNull(heartbeatAt, "heartbeatAt is null");
    }
  }

  private ClusterDatabase(
      String url, Properties connection, String catalogName, String printableUri) {
    this.url = url;
    this.connection = connection;
    this.catalogName = catalogName;
    this.printableUri = printableUri;
  }

  /**
   * Opens the cluster's tables in the catalog database {@code settings} names (the SQLite file
   * {@code catalog.db} in {@code dataDir} by default), creating them if absent.
   *
   * @throws QuiverException CATALOG_UNAVAILABLE naming catalog.uri when the database cannot be used
   */
  public static ClusterDatabase open(CatalogSettings settings, Path dataDir) {
    Properties props = new Properties();
    String url;
    if (settings.embedded()) {
      url = "jdbc:sqlite:" + dataDir.toAbsolutePath().normalize().resolve("catalog.db");
      props.setProperty("busy_timeout", "30000");
    } else {
      url = settings.uri().orElseThrow();
      if (!settings.user().isEmpty()) {
        props.setProperty("user", settings.user());
      }
      if (!settings.password().isEmpty()) {
        props.setProperty("password", settings.password());
      }
      if (url.startsWith("jdbc:postgresql:")) {
        props.setProperty("connectTimeout", "5");
      }
    }
    ClusterDatabase db = new ClusterDatabase(url, props, settings.name(), settings.printableUri());
    db.createTables();
    return db;
  }

  private void createTables() {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = connect();
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS quiver_nodes ("
                + "catalog_name VARCHAR(255) NOT NULL, node_id VARCHAR(64) NOT NULL,"
                + " advertise_uri VARCHAR(1024) NOT NULL, started_at BIGINT NOT NULL,"
                + " heartbeat_at BIGINT NOT NULL, PRIMARY KEY (catalog_name, node_id))");
        s.execute(
            "CREATE TABLE IF NOT EXISTS quiver_cluster_keys ("
                + "catalog_name VARCHAR(255) NOT NULL, key_name VARCHAR(64) NOT NULL,"
                + " key_value VARCHAR(255) NOT NULL, PRIMARY KEY (catalog_name, key_name))");
        return;
      } catch (SQLException e) {
        // Two nodes creating the tables at the same moment: PostgreSQL lets one of the two
        // CREATE TABLE IF NOT EXISTS fail on its catalog's unique index; the next attempt sees it.
        boolean connection = e.getSQLState() != null && e.getSQLState().startsWith("08");
        if (attempt == CREATE_ATTEMPTS || connection) {
          String message = String.valueOf(e.getMessage());
          throw new QuiverException(
              QuiverErrorCode.CATALOG_UNAVAILABLE,
              e,
              "Cannot open the catalog database catalog.uri=%s: %s",
              printableUri,
              message.lines().findFirst().orElse(message).strip());
        }
      }
    }
  }

  /**
   * The key that signs the cluster's bearer tokens: made by the first node that asks and stored in
   * the catalog database, so every node (and every restart) signs with the same one. Whoever can
   * read the catalog database can forge tokens: guard it as the cluster's master secret.
   */
  public byte[] tokenKey(byte[] candidate) {
    return Base64.getDecoder()
        .decode(claim(TOKEN_KEY, Base64.getEncoder().encodeToString(candidate), "token key"));
  }

  /**
   * The warehouse location of the catalog's tables: {@code candidate} if this is the first node to
   * ask (it is stored), else the one the first node stored. A node whose own warehouse differs
   * would write tables where the other nodes do not look, so the caller refuses to start.
   */
  public String warehouse(String candidate) {
    return claim(WAREHOUSE_KEY, candidate, "warehouse");
  }

  /** The value stored under {@code keyName}, storing {@code candidate} if there is none. */
  private String claim(String keyName, String candidate, String what) {
    Optional<String> existing = read(keyName, what);
    if (existing.isPresent()) {
      return existing.get();
    }
    try (Connection c = connect();
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO quiver_cluster_keys (catalog_name, key_name, key_value)"
                    + " VALUES (?, ?, ?)")) {
      insert.setString(1, catalogName);
      insert.setString(2, keyName);
      insert.setString(3, candidate);
      insert.executeUpdate();
    } catch (SQLException raced) {
      // Another node inserted its value first: use that one.
    }
    return read(keyName, what)
        .orElseThrow(
            () ->
                new QuiverException(
                    QuiverErrorCode.CATALOG_UNAVAILABLE,
                    "Cannot store the cluster's %s in the catalog database catalog.uri=%s",
                    what,
                    printableUri));
  }

  private Optional<String> read(String keyName, String what) {
    try (Connection c = connect();
        PreparedStatement query =
            c.prepareStatement(
                "SELECT key_value FROM quiver_cluster_keys WHERE catalog_name = ? AND key_name = ?")) {
      query.setString(1, catalogName);
      query.setString(2, keyName);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next() ? Optional.of(rows.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw unavailable("read the cluster's " + what, e);
    }
  }

  /** Records that {@code node} is alive now (inserting its row the first time). */
  void beat(Node node) throws SQLException {
    try (Connection c = connect()) {
      try (PreparedStatement update =
          c.prepareStatement(
              "UPDATE quiver_nodes SET heartbeat_at = ?, advertise_uri = ?"
                  + " WHERE catalog_name = ? AND node_id = ?")) {
        update.setLong(1, node.heartbeatAt().toEpochMilli());
        update.setString(2, node.uri());
        update.setString(3, catalogName);
        update.setString(4, node.id());
        if (update.executeUpdate() > 0) {
          return;
        }
      }
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO quiver_nodes"
                  + " (catalog_name, node_id, advertise_uri, started_at, heartbeat_at)"
                  + " VALUES (?, ?, ?, ?, ?)")) {
        insert.setString(1, catalogName);
        insert.setString(2, node.id());
        insert.setString(3, node.uri());
        insert.setLong(4, node.startedAt().toEpochMilli());
        insert.setLong(5, node.heartbeatAt().toEpochMilli());
        insert.executeUpdate();
      }
    }
  }

  /** Every node whose heartbeat is at or after {@code since}, by node id. */
  List<Node> nodesSince(Instant since) throws SQLException {
    try (Connection c = connect();
        PreparedStatement query =
            c.prepareStatement(
                "SELECT node_id, advertise_uri, started_at, heartbeat_at FROM quiver_nodes"
                    + " WHERE catalog_name = ? AND heartbeat_at >= ? ORDER BY node_id")) {
      query.setString(1, catalogName);
      query.setLong(2, since.toEpochMilli());
      List<Node> nodes = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          nodes.add(
              new Node(
                  rows.getString(1),
                  rows.getString(2),
                  Instant.ofEpochMilli(rows.getLong(3)),
                  Instant.ofEpochMilli(rows.getLong(4))));
        }
      }
      return nodes;
    }
  }

  /** Deletes the row of {@code nodeId}, and those of nodes silent since before {@code before}. */
  void remove(String nodeId, Instant before) throws SQLException {
    try (Connection c = connect();
        PreparedStatement delete =
            c.prepareStatement(
                "DELETE FROM quiver_nodes WHERE catalog_name = ?"
                    + " AND (node_id = ? OR heartbeat_at < ?)")) {
      delete.setString(1, catalogName);
      delete.setString(2, nodeId);
      delete.setLong(3, before.toEpochMilli());
      delete.executeUpdate();
    }
  }

  /** catalog.uri as it may be printed. */
  String printableUri() {
    return printableUri;
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, connection);
  }

  private QuiverException unavailable(String action, SQLException e) {
    String message = String.valueOf(e.getMessage());
    return new QuiverException(
        QuiverErrorCode.CATALOG_UNAVAILABLE,
        e,
        "Cannot %s in the catalog database catalog.uri=%s: %s",
        action,
        printableUri,
        message.lines().findFirst().orElse(message).strip());
  }
}
