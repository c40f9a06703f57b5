package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.quiver.server.config.RestSettings;
import dev.quiver.server.security.ServerSecurity;
import dev.quiver.server.table.CatalogTables;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.apache.iceberg.rest.RESTUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the server's tables as an Iceberg REST catalog (the Apache Iceberg REST catalog API at the
 * root path) on a JDK HTTP server of its own port, HTTPS when the server has a TLS certificate.
 *
 * <p>Calls run on a bounded pool of {@link #THREADS} threads with a queue of {@link #QUEUE}; past
 * that the accepting thread runs the call itself, so no new connection is taken until one ends.
 * Request bodies larger than {@link #MAX_BODY_BYTES} are refused with 413. {@link #close()} stops
 * accepting, lets running calls finish for a bounded time, and is harmless twice.
 */
public final class RestCatalogServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RestCatalogServer.class);

  /** Threads that run calls; catalog calls are short and mostly wait on the catalog database. */
  static final int THREADS = 8;

  /** Calls that wait for a thread before the accepting thread runs them itself. */
  static final int QUEUE = 64;

  /** The largest request body: a create with a 4096-column schema is well under 1 MB. */
  static final int MAX_BODY_BYTES = 8 << 20;

  /** How much of a too large body is read and dropped so that the client sees the 413. */
  private static final long MAX_DRAIN_BYTES = 64L << 20;

  private static final int DRAIN_SECONDS = 5;
  private static final String TOKENS_PATH = "/v1/oauth/tokens";

  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final CatalogRoutes routes;
  private final RestAccess access;
  private final String uri;
  private final AtomicBoolean closed = new AtomicBoolean();

  private RestCatalogServer(
      HttpServer server,
      ThreadPoolExecutor executor,
      CatalogRoutes routes,
      RestAccess access,
      String uri) {
    this.server = server;
    this.executor = executor;
    this.routes = routes;
    this.access = access;
    this.uri = uri;
  }

  /**
   * Starts the REST catalog that {@code settings} describe over {@code tables}, with {@code
   * security}'s logins, grants and TLS; the caller closes it.
   *
   * @throws IOException when the port cannot be bound or the TLS files cannot be read
   */
  public static RestCatalogServer start(
      RestSettings settings, CatalogTables tables, ServerSecurity security) throws IOException {
    requireNonNull(settings, "settings is null");
    if (!settings.enabled()) {
      throw new IllegalArgumentException("catalog.rest-port is off");
    }
    InetSocketAddress bind = new InetSocketAddress(settings.host(), settings.port().getAsInt());
    Optional<ServerSecurity.TlsFiles> tls = security.tls();
    HttpServer server;
    if (tls.isPresent()) {
      SSLContext context = PemTls.context(tls.get());
      HttpsServer https = HttpsServer.create(bind, 64);
      boolean mutual = tls.get().clientCa().isPresent();
      https.setHttpsConfigurator(
          new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
              // On the SSLParameters themselves: once they are set, HttpsParameters' own
              // setNeedClientAuth is ignored.
              javax.net.ssl.SSLParameters ssl = context.getDefaultSSLParameters();
              ssl.setNeedClientAuth(mutual);
              params.setSSLParameters(ssl);
            }
          });
      server = https;
    } else {
      server = HttpServer.create(bind, 64);
    }
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "quiver-rest-" + count.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    executor.allowCoreThreadTimeOut(true);
    server.setExecutor(executor);
    RestAccess access = new RestAccess(security);
    String scheme = tls.isPresent() ? "https" : "http";
    String uri = scheme + "://" + hostForUri(settings.host()) + ":" + server.getAddress().getPort();
    RestCatalogServer rest =
        new RestCatalogServer(server, executor, new CatalogRoutes(tables, access), access, uri);
    server.createContext("/", rest::serve);
    server.start();
    LOG.info("Iceberg REST catalog on {}", uri);
    return rest;
  }

  /** Where clients reach the catalog: {@code http://host:port} or {@code https://host:port}. */
  public String uri() {
    return uri;
  }

  /** The port the catalog listens on (the real one when 0 was asked for). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod().toUpperCase(java.util.Locale.ROOT);
      byte[] body;
      try {
        body = readBody(exchange);
      } catch (RestException tooLarge) {
        send(exchange, method, tooLarge.error().code(), tooLarge.error().response());
        return;
      }
      String path = exchange.getRequestURI().getRawPath();
      if (path.equals(TOKENS_PATH)) {
        RestAccess.Answer answer =
            method.equals("POST")
                ? access.token(
                    RESTUtil.decodeFormData(new String(body, StandardCharsets.UTF_8)),
                    exchange.getRequestHeaders().getFirst("Authorization"))
                : RestAccess.Answer.error(405, "invalid_request", "Use POST " + TOKENS_PATH);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        send(exchange, method, answer.code(), answer.body());
        return;
      }
      RestAnswer answer;
      try {
        String user = access.user(exchange.getRequestHeaders().getFirst("Authorization"));
        answer = routes.handle(new RestCall(method, segments(path), query(exchange), body, user));
      } catch (Exception e) {
        answer = failure(exchange, method, path, e);
      }
      send(exchange, method, answer.code(), answer.body());
    } catch (IOException | RuntimeException e) {
      // The client went away mid-answer: nothing to tell it.
      LOG.debug(
          "REST call {} {} ended early", exchange.getRequestMethod(), exchange.getRequestURI(), e);
    }
  }

  /** The answer to a failed call; a failure of the server's own is logged, not sent. */
  private RestAnswer failure(HttpExchange exchange, String method, String path, Exception e) {
    Optional<RestError> error = RestError.of(e);
    if (error.isPresent()) {
      if (error.get().code() == 401) {
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"quiver\"");
      }
      if (error.get().code() >= 500) {
        LOG.warn("REST call {} {} failed: {}", method, path, e.toString());
      }
      return new RestAnswer(error.get().code(), error.get().response());
    }
    LOG.error("REST call {} {} failed", method, path, e);
    return new RestAnswer(
        500,
        new RestError(
                500,
                "InternalServerError",
                String.format(
                    "Internal server error in %s %s (%s); see the server log",
                    method, path, e.getClass().getSimpleName()))
            .response());
  }

  private static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
      if (body.length > MAX_BODY_BYTES) {
        // Read on (bounded) before answering: a socket closed on unread data is reset, and the
        // client would lose the 413 with it.
        drain(in);
        throw tooLarge();
      }
      return body;
    }
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[64 << 10];
    long left = MAX_DRAIN_BYTES;
    int n;
    while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
      left -= n;
    }
  }

  private static RestException tooLarge() {
    return new RestException(
        new RestError(
            413,
            "RequestTooLargeException",
            "The request body is larger than the REST catalog's limit of "
                + MAX_BODY_BYTES
                + " bytes"));
  }

  private static void send(HttpExchange exchange, String method, int code, Object body)
      throws IOException {
    if (body == null || code == 204 || method.equals("HEAD")) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    byte[] json = RestJson.MAPPER.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, json.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(json);
    }
  }

  private static List<String> segments(String rawPath) {
    List<String> segments = new ArrayList<>();
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        segments.add(s);
      }
    }
    return segments;
  }

  private static Map<String, String> query(HttpExchange exchange) {
    String raw = exchange.getRequestURI().getRawQuery();
    Map<String, String> query = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return query;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      query.put(RESTUtil.decodeString(key), RESTUtil.decodeString(value));
    }
    return query;
  }

  private static String hostForUri(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Stops accepting at once and waits (bounded) for the exchanges running to finish.
    server.stop(DRAIN_SECONDS);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
