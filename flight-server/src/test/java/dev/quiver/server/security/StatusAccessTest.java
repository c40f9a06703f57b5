package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * With authentication on, the telemetry endpoint's status page and /status.json (running and recent
 * calls, with their tables) need a user with admin on *; /metrics, which names no table, stays open
 * for scrapers.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class StatusAccessTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path dir;

  @Test
  void theStatusPageNeedsAnAdminAndMetricsNameNoTable(BufferAllocator allocator) throws Exception {
    Path users =
        SecureServers.usersFile(dir, Map.of("ops", "*=read,write,admin", "bob", "sales=read"));
    try (QuiverServer server =
            SecureServers.start(
                dir,
                Map.of(
                    "security.users-file", users.toString(),
                    "telemetry.enabled", "true",
                    "telemetry.prometheus-port", "0"));
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      CredentialCallOption ops = SecureServers.logIn(client, "ops");
      SecureServers.put(client, allocator, "sales", "secret_orders", 10, ops);
      String base = "http://127.0.0.1:" + server.telemetryPort().getAsInt();

      for (String path : new String[] {"/status.json", "/"}) {
        HttpResponse<String> anonymous = get(base + path, null);
        assertThat(anonymous.statusCode()).as(path).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
            .hasValue("Basic realm=\"quiver\"");
        assertThat(anonymous.body()).doesNotContain("secret_orders");
        assertThat(get(base + path, basic("ops", "wrong")).statusCode()).as(path).isEqualTo(401);
        HttpResponse<String> reader = get(base + path, basic("bob", SecureServers.password("bob")));
        assertThat(reader.statusCode()).as(path).isEqualTo(403);
        assertThat(reader.body()).doesNotContain("secret_orders");
        assertThat(get(base + path, basic("ops", SecureServers.password("ops"))).statusCode())
            .as(path)
            .isEqualTo(200);
      }
      assertThat(get(base + "/status.json", "Bearer not-a-token").statusCode()).isEqualTo(401);
      HttpResponse<String> status =
          get(base + "/status.json", basic("ops", SecureServers.password("ops")));
      assertThat(status.body()).contains("sales.secret_orders");

      HttpResponse<String> metrics = get(base + "/metrics", null);
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("quiver_calls").doesNotContain("secret_orders");
    }
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> get(String url, String authorization) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
