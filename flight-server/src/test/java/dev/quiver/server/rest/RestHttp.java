package dev.quiver.server.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Raw HTTP calls to a REST catalog, for the status codes and error bodies of the spec. */
final class RestHttp {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An answer: the status, the body parsed as JSON (a missing node when empty), the headers. */
  record Answer(int code, JsonNode json, java.net.http.HttpHeaders headers) {
    /** The ErrorResponse's {@code error.type}. */
    String errorType() {
      return json.path("error").path("type").asText();
    }

    /** The ErrorResponse's {@code error.message}. */
    String errorMessage() {
      return json.path("error").path("message").asText();
    }
  }

  private final HttpClient client;
  private final String base;

  RestHttp(String base) {
    this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(), base);
  }

  RestHttp(HttpClient client, String base) {
    this.client = client;
    this.base = base;
  }

  Answer get(String path, String token) throws Exception {
    return send("GET", path, null, "application/json", token);
  }

  Answer post(String path, String body, String token) throws Exception {
    return send("POST", path, body, "application/json", token);
  }

  /** A form-encoded POST, as an OAuth2 token request is. */
  Answer form(String path, String body) throws Exception {
    return send("POST", path, body, "application/x-www-form-urlencoded", null);
  }

  Answer send(String method, String path, String body, String type, String token) throws Exception {
    return sendAuthorized(method, path, body, type, token == null ? null : "Bearer " + token);
  }

  /** A call with {@code authorization} as its Authorization header, if not null. */
  Answer sendAuthorized(String method, String path, String body, String type, String authorization)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", type)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    HttpResponse<String> response =
        client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = response.body().isEmpty() ? JSON.missingNode() : JSON.readTree(response.body());
    return new Answer(response.statusCode(), json, response.headers());
  }
}
