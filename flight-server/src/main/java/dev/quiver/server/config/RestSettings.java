package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.util.OptionalInt;

/**
 * The {@code catalog.rest-*} part of {@link ServerConfig}: the Iceberg REST catalog the server
 * serves its tables through, for Trino, Spark, PyIceberg and DuckDB.
 *
 * @param port the port of the REST catalog; empty means off, 0 picks a free port
 * @param host the address it binds
 */
public record RestSettings(OptionalInt port, String host) {
  /** Off; bound to loopback when turned on. */
  public static final RestSettings DEFAULTS = new RestSettings(OptionalInt.empty(), "127.0.0.1");

  public RestSettings {
    requireNonNull(port, "port is null");
    requireNonNull(host, "host is null");
    if (port.isPresent() && (port.getAsInt() < 0 || port.getAsInt() > 65535)) {
      throw new IllegalArgumentException(
          "catalog.rest-port must be off or 0 to 65535: " + port.getAsInt());
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("catalog.rest-host must not be empty");
    }
  }

  /** Whether the REST catalog is served at all. */
  public boolean enabled() {
    return port.isPresent();
  }
}
