package dev.quiver.client;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.Location;
import org.apache.arrow.util.AutoCloseables;

/**
 * Which connection reads an endpoint: the client's own when the endpoint names no location, names
 * the server the client is connected to, or asks to reuse the connection; else a connection to the
 * endpoint's first location (a cluster node), made on first use, kept for later endpoints there and
 * closed with the client.
 */
@ThreadSafe
final class EndpointClients implements AutoCloseable {
  /** Flight's "read from the server that sent the FlightInfo" location. */
  private static final String REUSE_SCHEME = "arrow-flight-reuse-connection";

  private final FlightClient own;
  private final URI ownUri;
  private final Function<Location, FlightClient> connect;

  @GuardedBy("this")
  private final Map<URI, FlightClient> others = new HashMap<>();

  @GuardedBy("this")
  private boolean closed;

  /** {@code connect} builds a client for another location, configured as {@code own} is. */
  EndpointClients(
      FlightClient own, Location ownLocation, Function<Location, FlightClient> connect) {
    this.own = own;
    this.ownUri = ownLocation.getUri();
    this.connect = connect;
  }

  /** The client that reads {@code endpoint}. */
  FlightClient forEndpoint(FlightEndpoint endpoint) {
    List<Location> locations = endpoint.getLocations();
    if (locations.isEmpty()) {
      return own;
    }
    URI target = locations.get(0).getUri();
    if (REUSE_SCHEME.equals(target.getScheme()) || sameServer(target)) {
      return own;
    }
    synchronized (this) {
      if (closed) {
        throw new QuiverException(QuiverErrorCode.CANCELLED, "The client is closed");
      }
      return others.computeIfAbsent(target, uri -> connect.apply(new Location(uri)));
    }
  }

  /** How many connections to other locations are open (for tests). */
  synchronized int otherConnections() {
    return others.size();
  }

  private boolean sameServer(URI target) {
    return ownUri.getPort() == target.getPort()
        && String.valueOf(ownUri.getHost()).equalsIgnoreCase(String.valueOf(target.getHost()));
  }

  /** Closes the connections to other locations; the client closes its own. */
  @Override
  public void close() throws Exception {
    List<FlightClient> open;
    synchronized (this) {
      closed = true;
      open = new ArrayList<>(others.values());
      others.clear();
    }
    AutoCloseables.close(open);
  }
}
