package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.quiver.server.memory.MemoryGovernor;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The telemetry HTTP endpoint: Prometheus {@code /metrics}, the live status page {@code /} (plain
 * HTML and JS from the jar, no CDN) and the {@code /status.json} it polls.
 *
 * <p>One JDK HttpServer on one port, with a single daemon thread: a scrape or a page load never
 * competes with data calls for more than that. Prometheus' own handler serves {@code /metrics} from
 * the OpenTelemetry SDK's {@code PrometheusMetricReader}, so there is one port to open.
 *
 * <p>With authentication on, the page and {@code /status.json}, which list running and recent calls
 * with their tables, need a user with admin on {@code *} ({@link StatusAccess}); {@code /metrics}
 * stays open, for Prometheus scrapers, since it names no table and holds no data.
 */
final class StatusServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final ExecutorService executor;
  private final byte[] page;

  StatusServer(
      InetSocketAddress address,
      PrometheusRegistry registry,
      Supplier<Map<String, Object>> status,
      StatusAccess access)
      throws IOException {
    requireNonNull(registry, "registry is null");
    requireNonNull(status, "status is null");
    requireNonNull(access, "access is null");
    this.page = readPage();
    this.server = HttpServer.create(address, 16);
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "quiver-telemetry-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/metrics", new MetricsHandler(registry));
    server.createContext(
        "/status.json",
        exchange -> {
          if (allowed(exchange, access)) {
            send(exchange, 200, "application/json", JSON.writeValueAsBytes(status.get()));
          }
        });
    server.createContext(
        "/",
        exchange -> {
          if (!allowed(exchange, access)) {
            return;
          }
          String path = exchange.getRequestURI().getPath();
          if (path.equals("/") || path.equals("/index.html")) {
            send(exchange, 200, "text/html; charset=utf-8", page);
          } else {
            send(
                exchange,
                404,
                "text/plain; charset=utf-8",
                "Not found; try /, /status.json or /metrics\n".getBytes(StandardCharsets.UTF_8));
          }
        });
    server.start();
  }

  /** Where the endpoint listens (the real port when 0 was asked for). */
  InetSocketAddress address() {
    return server.getAddress();
  }

  private static byte[] readPage() {
    try (InputStream in = StatusServer.class.getResourceAsStream("status.html")) {
      if (in == null) {
        throw new IllegalStateException("status.html is missing from the server jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether the request may see calls and tables; if not, it has been answered (401 with a Basic
   * challenge, or 403). {@code /metrics} is not checked: its labels are methods, statuses and
   * alerts, never tables.
   */
  private static boolean allowed(HttpExchange exchange, StatusAccess access) throws IOException {
    StatusAccess.Decision decision =
        access.check(exchange.getRequestHeaders().getFirst("Authorization"));
    switch (decision) {
      case ALLOWED:
        return true;
      case UNAUTHENTICATED:
        exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"quiver\"");
        send(
            exchange,
            401,
            "text/plain; charset=utf-8",
            "Authentication required: a user with admin on *\n".getBytes(StandardCharsets.UTF_8));
        return false;
      default:
        send(
            exchange,
            403,
            "text/plain; charset=utf-8",
            "The status page needs admin on *\n".getBytes(StandardCharsets.UTF_8));
        return false;
    }
  }

  private static void send(HttpExchange exchange, int code, String type, byte[] body)
      throws IOException {
    try (exchange) {
      exchange.getResponseHeaders().set("Content-Type", type);
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.sendResponseHeaders(code, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /**
   * The figures /status.json returns, with each of {@code sections} under its name; the page keeps
   * the history itself.
   */
  static Map<String, Object> status(
      MemoryGovernor memory,
      CallMetrics metrics,
      CallRegistry calls,
      AlertEvaluator alerts,
      Map<String, Supplier<?>> sections) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("time_ms", System.currentTimeMillis());
    Map<String, Object> mem = new LinkedHashMap<>();
    mem.put("allocated", memory.allocated());
    mem.put("limit", memory.root().getLimit());
    mem.put("peak", memory.peak());
    mem.put("pressure", memory.pressure());
    mem.put("queued", memory.queued());
    out.put("memory", mem);
    Map<String, Object> totals = new LinkedHashMap<>();
    totals.put("rows_out", metrics.totalRowsOut.sum());
    totals.put("bytes_out", metrics.totalBytesOut.sum());
    totals.put("rows_in", metrics.totalRowsIn.sum());
    totals.put("bytes_in", metrics.totalBytesIn.sum());
    totals.put("calls", metrics.totalCalls.sum());
    totals.put("errors", metrics.totalErrors.sum());
    totals.put("stall_ms", metrics.totalStallNanos.sum() / 1_000_000);
    out.put("totals", totals);
    out.put("alerts", alerts.firing());
    out.put("active", calls.active());
    out.put("recent", calls.recent());
    out.put("tables", metrics.tableIo());
    sections.forEach((name, section) -> out.put(name, section.get()));
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
