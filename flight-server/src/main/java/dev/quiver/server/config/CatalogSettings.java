package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code catalog.*} and {@code cluster.*} part of {@link ServerConfig}: the Iceberg catalog
 * database, and how this node shows itself to the other nodes sharing it. Nodes that share {@code
 * catalog.uri} form one cluster.
 *
 * @param uri JDBC URL of the catalog database; empty means the SQLite file {@code catalog.db} in
 *     the data folder
 * @param user the catalog database's user, or empty
 * @param password the catalog database's password, or empty; never printed
 * @param name the JdbcCatalog catalog name (its rows' {@code catalog_name}), which Trino and Spark
 *     must use too
 * @param advertise the {@code grpc://} (or {@code grpc+tls://}) URI other clients use to reach this
 *     node; empty means the address the node binds
 * @param nodeTimeout a node whose heartbeat is older than this is left out of new plans
 * @param busyTimeout how long a commit waits for the catalog database's lock ({@code
 *     storage.catalog-busy-timeout}; SQLite's busy timeout)
 */
public record CatalogSettings(
    Optional<String> uri,
    String user,
    String password,
    String name,
    Optional<URI> advertise,
    Duration nodeTimeout,
    Duration busyTimeout) {
  /**
   * The SQLite catalog in the data folder, catalog name quiver, a 30 s node timeout, a 30 s busy
   * timeout.
   */
  public static final CatalogSettings DEFAULTS =
      new CatalogSettings(
          Optional.empty(),
          "",
          "",
          "quiver",
          Optional.empty(),
          Duration.ofSeconds(30),
          Duration.ofSeconds(30));

  public CatalogSettings {
    requireNonNull(uri, "uri is null");
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
    requireNonNull(name, "name is null");
    requireNonNull(advertise, "advertise is null");
    requireNonNull(nodeTimeout, "nodeTimeout is null");
    requireNonNull(busyTimeout, "busyTimeout is null");
    if (uri.isPresent() && !uri.get().startsWith("jdbc:")) {
      throw new IllegalArgumentException(
          "catalog.uri must be a JDBC URL (jdbc:postgresql://host:5432/db), not " + uri.get());
    }
    if (name.isBlank()) {
      throw new IllegalArgumentException("catalog.name must not be empty");
    }
    advertise.ifPresent(
        a -> {
          if (!("grpc".equals(a.getScheme()) || "grpc+tls".equals(a.getScheme()))
              || a.getHost() == null
              || a.getPort() < 1) {
            throw new IllegalArgumentException(
                "cluster.advertise must be grpc://host:port or grpc+tls://host:port, not " + a);
          }
        });
    if (nodeTimeout.toMillis() < 1000) {
      throw new IllegalArgumentException(
          "cluster.node-timeout must be at least 1s: " + nodeTimeout);
    }
  }

  /** Whether the catalog is the node's own SQLite file (so the cluster is this node alone). */
  public boolean embedded() {
    return uri.isEmpty();
  }

  /**
   * {@link #uri} as it may be printed: any {@code password=} parameter in it replaced by {@code
   * ***}; {@code (SQLite in the data folder)} when there is none.
   */
  public String printableUri() {
    return uri.map(u -> u.replaceAll("(?i)(password=)[^&;]*", "$1***"))
        .orElse("(SQLite catalog.db in the data folder)");
  }

  @Override
  public String toString() {
    return "CatalogSettings[uri="
        + printableUri()
        + ", user="
        + user
        + ", password="
        + (password.isEmpty() ? "" : "***")
        + ", name="
        + name
        + ", advertise="
        + advertise.map(URI::toString).orElse("(own address)")
        + ", nodeTimeout="
        + nodeTimeout
        + ", busyTimeout="
        + busyTimeout
        + "]";
  }
}
