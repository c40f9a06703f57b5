package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The {@code flight.*} part of {@link ServerConfig}: where the Flight server listens and how it
 * cuts and paces streams.
 *
 * @param host address the Flight server binds
 * @param port Flight port; 0 picks a free one
 * @param endpointTargetBytes GetFlightInfo splits a scan into endpoints of about this many bytes
 * @param maxEndpoints the most endpoints one scan is split into
 * @param stallTimeout a DoGet whose client reads nothing for this long is cancelled
 * @param putStallTimeout a DoPut whose client sends nothing for this long is cancelled
 */
public record FlightSettings(
    String host,
    int port,
    long endpointTargetBytes,
    int maxEndpoints,
    Duration stallTimeout,
    Duration putStallTimeout) {
  public FlightSettings {
    requireNonNull(host, "host is null");
    requireNonNull(stallTimeout, "stallTimeout is null");
    requireNonNull(putStallTimeout, "putStallTimeout is null");
  }

  /** {@link #stallTimeout} in milliseconds. */
  public long stallTimeoutMillis() {
    return stallTimeout.toMillis();
  }
}
