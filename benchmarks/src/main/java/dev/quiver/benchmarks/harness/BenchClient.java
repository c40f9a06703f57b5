package dev.quiver.benchmarks.harness;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightCallHeaders;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.HeaderCallOption;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/**
 * A plain Arrow Flight client for the harness, connected with the options' TLS and credentials: it
 * drives any Flight server, and uses Quiver's actions (drop-table, memory-report) only where the
 * server lists them.
 *
 * <p>Thread-safe, as FlightClient is; close it once every stream is done.
 */
final class BenchClient implements AutoCloseable {
  static final String DROP_TABLE = "drop-table";
  static final String MEMORY_REPORT = "memory-report";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BufferAllocator allocator;
  private final BenchOptions settings;
  private final FlightClient client;
  private final CallOption[] options;
  private final Set<String> actions;
  // Clients of the other locations endpoints name (cluster nodes), by URI.
  private final Map<URI, FlightClient> others = new ConcurrentHashMap<>();

  private BenchClient(
      BufferAllocator allocator,
      BenchOptions settings,
      FlightClient client,
      CallOption[] options,
      Set<String> actions) {
    this.allocator = allocator;
    this.settings = settings;
    this.client = client;
    this.options = options;
    this.actions = actions;
  }

  private static FlightClient open(
      BufferAllocator allocator, BenchOptions options, Location location) {
    FlightClient.Builder builder =
        FlightClient.builder(allocator, location).maxInboundMessageSize(Integer.MAX_VALUE);
    BenchOptions.Tls tls = options.tls();
    if (options.usesTls()) {
      if (tls.skipVerify()) {
        builder.verifyServer(false);
      }
      tls.overrideHostname().ifPresent(builder::overrideHostname);
      if (tls.trustedCertificates().isPresent()) {
        try (InputStream roots = Files.newInputStream(tls.trustedCertificates().get())) {
          builder.trustedCertificates(roots);
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot read --tls-roots", e);
        }
      }
    }
    return builder.build();
  }

  /** Connects, authenticates and lists the server's actions. */
  static BenchClient connect(BufferAllocator allocator, BenchOptions options) {
    requireNonNull(allocator, "allocator is null");
    FlightClient client = open(allocator, options, new Location(options.uri()));
    try {
      List<CallOption> callOptions = new ArrayList<>();
      BenchOptions.Auth auth = options.auth();
      if (auth.token().isPresent()) {
        FlightCallHeaders headers = new FlightCallHeaders();
        headers.insert("authorization", "Bearer " + auth.token().get());
        callOptions.add(new HeaderCallOption(headers));
      } else if (auth.user().isPresent()) {
        client
            .authenticateBasicToken(auth.user().get(), auth.password().orElseThrow())
            .ifPresent(callOptions::add);
      }
      CallOption[] array = callOptions.toArray(CallOption[]::new);
      Set<String> actions = new TreeSet<>();
      for (ActionType type : client.listActions(array)) {
        actions.add(type.getType());
      }
      return new BenchClient(allocator, options, client, array, actions);
    } catch (RuntimeException e) {
      try {
        client.close();
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
  }

  FlightClient flight() {
    return client;
  }

  /**
   * The client that reads {@code endpoint}: one connected to its first location (with the same TLS
   * settings; the credentials' bearer token is valid on every node of a cluster), or this one when
   * it names none or names this server.
   */
  FlightClient at(FlightEndpoint endpoint) {
    if (endpoint.getLocations().isEmpty()) {
      return client;
    }
    URI uri = endpoint.getLocations().get(0).getUri();
    if (uri.equals(settings.uri()) || "arrow-flight-reuse-connection".equals(uri.getScheme())) {
      return client;
    }
    return others.computeIfAbsent(uri, u -> open(allocator, settings, new Location(u)));
  }

  /** The call options every call carries (credentials). */
  CallOption[] options() {
    return options.clone();
  }

  /** Whether the server lists Quiver's memory-report action. */
  boolean hasMemoryReport() {
    return actions.contains(MEMORY_REPORT);
  }

  /** Drops a table if the server offers drop-table; false when it does not. */
  boolean dropTable(List<String> path) {
    if (!actions.contains(DROP_TABLE) || path.size() != 2) {
      return false;
    }
    String body =
        JSON.createObjectNode().put("namespace", path.get(0)).put("table", path.get(1)).toString();
    try {
      drain(
          client.doAction(new Action(DROP_TABLE, body.getBytes(StandardCharsets.UTF_8)), options));
      return true;
    } catch (org.apache.arrow.flight.FlightRuntimeException e) {
      if (e.status().code() == org.apache.arrow.flight.FlightStatusCode.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** The peak Arrow memory the server reports, or empty when it has no memory-report. */
  Optional<Long> serverPeakMemory() {
    if (!hasMemoryReport()) {
      return Optional.empty();
    }
    Iterator<Result> results = client.doAction(new Action(MEMORY_REPORT, new byte[0]), options);
    try {
      if (!results.hasNext()) {
        return Optional.empty();
      }
      JsonNode report = JSON.readTree(results.next().getBody());
      return report.has("peak") ? Optional.of(report.get("peak").asLong()) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("The memory report is not JSON", e);
    } finally {
      drain(results);
    }
  }

  private static void drain(Iterator<Result> results) {
    while (results.hasNext()) {
      results.next();
    }
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(others.values());
    client.close();
  }
}
