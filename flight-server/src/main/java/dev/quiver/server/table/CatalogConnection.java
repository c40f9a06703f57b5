package dev.quiver.server.table;

import dev.quiver.server.config.CatalogSettings;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.CatalogProperties;

/**
 * How the store talks to a shared catalog database (PostgreSQL): the JdbcCatalog properties for
 * {@link CatalogSettings}, and which failures mean the database is out of reach rather than a bad
 * statement.
 */
final class CatalogConnection {
  /**
   * SQL states after which Iceberg's connection pool drops the connection and opens a new one, on
   * top of its own (08000, 08003, 08006, 08007, 40001): connection failures and PostgreSQL's
   * shutdown states, so a restarted database is used again without restarting the node.
   */
  static final String RETRYABLE_STATES =
      "08000,08001,08003,08004,08006,08007,40001,57P01,57P02,57P03";

  /** Seconds a new connection may take before the call fails (the driver's default is 10). */
  static final String CONNECT_TIMEOUT_SECONDS = "5";

  private CatalogConnection() {}

  /** JdbcCatalog properties for a shared catalog database (not the embedded SQLite one). */
  static Map<String, String> properties(CatalogSettings settings) {
    Map<String, String> props = new HashMap<>();
    props.put(CatalogProperties.URI, settings.uri().orElseThrow());
    if (!settings.user().isEmpty()) {
      props.put("jdbc.user", settings.user());
    }
    if (!settings.password().isEmpty()) {
      props.put("jdbc.password", settings.password());
    }
    if (settings.uri().get().startsWith("jdbc:postgresql:")) {
      props.put("jdbc.connectTimeout", CONNECT_TIMEOUT_SECONDS);
      props.put("jdbc.tcpKeepAlive", "true");
    }
    props.put("retryable_status_codes", RETRYABLE_STATES);
    return props;
  }

  /**
   * The SQL error in {@code t}'s causes that says the catalog database cannot be reached (refused,
   * lost, shutting down), if any.
   */
  static Optional<SQLException> unreachable(Throwable t) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < 12; depth++) {
      if (current instanceof SQLException sql && isConnectionFailure(sql)) {
        return Optional.of(sql);
      }
      current = current.getCause();
    }
    return Optional.empty();
  }

  private static boolean isConnectionFailure(SQLException e) {
    if (e instanceof SQLTransientConnectionException
        || e instanceof SQLNonTransientConnectionException) {
      return true;
    }
    String state = e.getSQLState();
    // Class 08: connection exception; 57P01-57P03: the server is shutting down or starting.
    return state != null && (state.startsWith("08") || state.startsWith("57P"));
  }

  /** The innermost message in {@code t}'s causes: what the driver said, without wrappers. */
  static String rootMessage(Throwable t) {
    Throwable current = t;
    String message = String.valueOf(t.getMessage());
    for (int depth = 0; current != null && depth < 12; depth++) {
      if (current.getMessage() != null) {
        message = current.getMessage();
      }
      current = current.getCause();
    }
    // One line: drivers sometimes append hints on further lines.
    return message.lines().findFirst().orElse(message).strip();
  }
}
