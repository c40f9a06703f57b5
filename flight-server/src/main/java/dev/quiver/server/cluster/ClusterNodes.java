package dev.quiver.server.cluster;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.cluster.ClusterDatabase.Node;
import java.net.URI;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Location;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership of the cluster: a daemon thread renews its heartbeat in the catalog
 * database every few seconds and reads which nodes are alive; plans spread endpoints over them.
 *
 * <p>A node whose heartbeat is older than {@code cluster.node-timeout} is out of new plans; a node
 * that closes removes its row at once. When the catalog database is unreachable the last list read
 * ages out and plans fall back to this node alone. Thread-safe; {@link #close()} is idempotent.
 */
public final class ClusterNodes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNodes.class);

  /** Rows of nodes silent this many node-timeouts are deleted by whichever node beats next. */
  private static final int FORGET_AFTER_TIMEOUTS = 20;

  private final ClusterDatabase database;
  private final Duration timeout;
  private final Clock clock;
  private final String id = UUID.randomUUID().toString();
  private final Instant startedAt;
  private final ScheduledExecutorService heartbeat;

  // The four fields below are guarded by this (the monitor of this object).
  private String uri;
  private List<Node> known = List.of();
  private boolean failing;
  private boolean closed;

  private ClusterNodes(ClusterDatabase database, Duration timeout, Clock clock) {
    this.database = requireNonNull(database, "database is null");
    this.timeout = requireNonNull(timeout, "timeout is null");
    this.clock = requireNonNull(clock, "clock is null");
    this.startedAt = clock.instant();
    this.heartbeat =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "quiver-cluster-heartbeat");
              t.setDaemon(true);
              return t;
            });
  }

  /** Membership in {@code database}'s cluster; not yet announced (see {@link #join}). */
  public static ClusterNodes create(ClusterDatabase database, Duration nodeTimeout) {
    return new ClusterNodes(database, nodeTimeout, Clock.systemUTC());
  }

  /** How often the heartbeat is renewed: a third of the timeout, between 200 ms and 5 s. */
  static Duration interval(Duration timeout) {
    long millis = Math.max(200, Math.min(5000, timeout.toMillis() / 3));
    return Duration.ofMillis(millis);
  }

  /**
   * Announces this node as reachable at {@code advertise} (grpc:// or grpc+tls://) and starts the
   * heartbeat. The first heartbeat runs before this returns, so the node is in plans at once.
   */
  public void join(String advertise) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("Cluster membership is closed");
      }
      uri = requireNonNull(advertise, "advertise is null");
    }
    beat();
    long every = interval(timeout).toMillis();
    heartbeat.scheduleWithFixedDelay(this::beat, every, every, TimeUnit.MILLISECONDS);
    LOG.info("Joined the cluster as node {} at {}", id, advertise);
  }

  private void beat() {
    String self;
    synchronized (this) {
      if (closed || uri == null) {
        return;
      }
      self = uri;
    }
    Instant now = clock.instant();
    try {
      database.beat(new Node(id, self, startedAt, now));
      List<Node> nodes = database.nodesSince(now.minus(timeout));
      database.remove("", now.minus(timeout.multipliedBy(FORGET_AFTER_TIMEOUTS)));
      synchronized (this) {
        known = List.copyOf(nodes);
        if (failing) {
          LOG.info("Cluster heartbeat works again ({} live nodes)", nodes.size());
        }
        failing = false;
      }
    } catch (SQLException | RuntimeException e) {
      synchronized (this) {
        if (!failing) {
          LOG.warn(
              "Cannot renew this node's heartbeat in the catalog database {}: {}; other nodes"
                  + " drop it from plans after {}",
              database.printableUri(),
              e.getMessage(),
              timeout);
        }
        failing = true;
      }
    }
  }

  /** This node's id (a random UUID per start). */
  public String id() {
    return id;
  }

  /**
   * The live nodes, by id: those whose last heartbeat this node read is within the node timeout,
   * and always this node itself once it has joined.
   */
  public synchronized List<Node> live() {
    if (uri == null) {
      return List.of();
    }
    Instant now = clock.instant();
    Instant since = now.minus(timeout);
    List<Node> nodes = new ArrayList<>();
    boolean self = false;
    for (Node n : known) {
      if (n.id().equals(id)) {
        self = true;
        nodes.add(new Node(id, uri, startedAt, now));
      } else if (!n.heartbeatAt().isBefore(since)) {
        nodes.add(n);
      }
    }
    if (!self) {
      nodes.add(new Node(id, uri, startedAt, now));
      nodes.sort(java.util.Comparator.comparing(Node::id));
    }
    return List.copyOf(nodes);
  }

  /**
   * Where a plan's endpoints go: the live nodes' locations when there are several, else empty (the
   * client reads every endpoint from the node it asked).
   */
  public List<Location> planLocations() {
    List<Node> nodes = live();
    if (nodes.size() < 2) {
      return List.of();
    }
    return nodes.stream().map(n -> new Location(URI.create(n.uri()))).toList();
  }

  /** Stops the heartbeat and removes this node's row, so plans drop it at once. */
  @Override
  public void close() {
    boolean joined;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      joined = uri != null;
    }
    heartbeat.shutdownNow();
    try {
      heartbeat.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (joined) {
      try {
        database.remove(id, Instant.EPOCH);
      } catch (SQLException | RuntimeException e) {
        LOG.warn("Cannot remove node {} from the catalog database: {}", id, e.getMessage());
      }
    }
  }
}
