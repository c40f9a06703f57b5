package dev.quiver.it;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs SQL on a Trino server through its HTTP client protocol: {@code POST /v1/statement}, then
 * {@code GET nextUri} until the query is done, collecting the rows on the way.
 *
 * <p>The client declares {@code PARAMETRIC_DATETIME}, so times and timestamps come with their
 * type's precision ({@code timestamp(6)}); a client that does not gets them rounded to
 * milliseconds. Values are Trino's JSON rendering (numbers for integers, floats and booleans;
 * strings for decimals, dates, times, timestamps, NaN and the infinities; base64 for varbinary).
 * Floats are read as doubles, not BigDecimal, which has no -0.0. A failed query throws {@link
 * TrinoQueryException} with Trino's message. Safe to share between threads.
 */
final class TrinoClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(90);
  private static final Set<Integer> BUSY = Set.of(502, 503, 504);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final URI server;
  private final String catalog;
  private final String schema;

  TrinoClient(URI server, String catalog, String schema) {
    this.server = requireNonNull(server, "server is null");
    this.catalog = catalog;
    this.schema = schema;
  }

  /** A column of a result: its name and Trino type, e.g. {@code decimal(38,9)}. */
  record Column(String name, String type) {}

  /** The rows of a query, each a list of JSON values (null for SQL NULL) in column order. */
  record Result(List<Column> columns, List<List<JsonNode>> rows) {
    Result {
      columns = List.copyOf(columns);
      rows = List.copyOf(rows);
    }
  }

  /** A query Trino failed, with its error name and message. */
  static final class TrinoQueryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TrinoQueryException(String sql, JsonNode error) {
      super(
          String.format(
              "Trino failed %s: %s: %s",
              sql, error.path("errorName").asText(), error.path("message").asText()));
    }
  }

  /** Runs {@code sql} and returns its result; throws {@link TrinoQueryException} if it fails. */
  Result execute(String sql) {
    long deadline = System.nanoTime() + QUERY_TIMEOUT.toNanos();
    HttpRequest.Builder post =
        request(server.resolve("/v1/statement"))
            .POST(HttpRequest.BodyPublishers.ofString(sql, StandardCharsets.UTF_8));
    if (catalog != null) {
      post.header("X-Trino-Catalog", catalog);
    }
    if (schema != null) {
      post.header("X-Trino-Schema", schema);
    }
    JsonNode page = send(post.build(), sql);
    List<Column> columns = null;
    List<List<JsonNode>> rows = new ArrayList<>();
    while (true) {
      if (page.hasNonNull("error")) {
        throw new TrinoQueryException(sql, page.get("error"));
      }
      if (columns == null && page.hasNonNull("columns")) {
        columns = new ArrayList<>();
        for (JsonNode column : page.get("columns")) {
          columns.add(new Column(column.get("name").asText(), column.get("type").asText()));
        }
      }
      for (JsonNode row : page.path("data")) {
        List<JsonNode> values = new ArrayList<>(row.size());
        row.forEach(v -> values.add(v.isNull() ? null : v));
        rows.add(values);
      }
      if (!page.hasNonNull("nextUri")) {
        return new Result(columns == null ? List.of() : columns, rows);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "Trino did not finish within " + QUERY_TIMEOUT + ": " + sql);
      }
      // Trino holds each GET until it has data or about a second has passed: no client-side wait.
      page = send(request(URI.create(page.get("nextUri").asText())).GET().build(), sql);
    }
  }

  private static HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(30))
        .header("X-Trino-User", "quiver")
        // Without it Trino rounds timestamps and times to milliseconds and calls them timestamp.
        .header("X-Trino-Client-Capabilities", "PARAMETRIC_DATETIME")
        .header("User-Agent", "quiver-it");
  }

  private static JsonNode send(HttpRequest request, String sql) {
    try {
      HttpResponse<String> response =
          HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      // The protocol's answer to a busy server: try again after 50-100 ms, a few times.
      for (int retry = 0; retry < 20 && BUSY.contains(response.statusCode()); retry++) {
        TimeUnit.MILLISECONDS.sleep(100);
        response = HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      }
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            String.format(
                "Trino answered HTTP %d to %s for %s: %s",
                response.statusCode(), request.uri(), sql, response.body()));
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IllegalStateException("Cannot reach Trino at " + request.uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted during " + sql, e);
    }
  }
}
