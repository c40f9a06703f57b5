package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.telemetry.TelemetryOptions;
import dev.quiver.testing.ArrowAllocatorExtension;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightClientMiddleware;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.auth2.BearerCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Passwords, bearer tokens and Authorization headers appear in no log line, no span (attributes,
 * events, status) and no error message, through logins that work and fail and calls that are
 * refused.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SecretsTest {
  private static final String WRONG_PASSWORD = "Wrong-Guess-7731";
  private static final String FORGED_TOKEN = "forged-token-5512";

  @TempDir Path dir;

  @Test
  void secretsReachNoLogSpanOrError(BufferAllocator allocator) throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "sales=read,write"));
    Map<String, String> flags = new HashMap<>();
    flags.put("flight.port", "0");
    flags.put("storage.data-dir", dir.resolve("data").toString());
    flags.put("memory.total", "256MB");
    flags.put("security.users-file", users.toString());
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    List<String> errors = new ArrayList<>();
    String token;
    AtomicReference<String> caught = new AtomicReference<>();
    List<SpanData> finished = new ArrayList<>();
    try (QuiverServer server =
            QuiverServer.start(
                ServerConfig.load(Map.of(), Map.of(), flags),
                new TelemetryOptions(Map.of(), List.of(SimpleSpanProcessor.create(spans))));
        FlightClient client =
            FlightClient.builder(allocator, server.location())
                .intercept(tokenCatcher(caught))
                .build()) {
      CredentialCallOption login = SecureServers.logIn(client, "alice");
      token = caught.get();
      assertThat(token).isNotBlank();
      SecureServers.put(client, allocator, "sales", "orders", 3, login);
      client.getInfo(FlightDescriptor.path("sales", "orders"), login);
      errors.add(failure(() -> client.authenticateBasicToken("alice", WRONG_PASSWORD)));
      errors.add(failure(() -> client.authenticateBasicToken("nobody", WRONG_PASSWORD)));
      CallOption forged = new CredentialCallOption(new BearerCredentialWriter(FORGED_TOKEN));
      errors.add(failure(() -> client.listFlights(Criteria.ALL, forged).forEach(f -> {})));
      errors.add(failure(() -> client.getInfo(FlightDescriptor.path("hr", "pay"), login)));
      errors.add(failure(() -> client.getInfo(FlightDescriptor.path("sales", "none"), login)));
      // Spans end as their calls close, just after the client has its answer; the exporter
      // forgets them when the server shuts telemetry down, so take them now.
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (spans.getFinishedSpanItems().size() < 4 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      finished.addAll(spans.getFinishedSpanItems());
    } finally {
      root.detachAppender(logs);
    }

    List<String> secrets =
        List.of(
            SecureServers.password("alice"),
            WRONG_PASSWORD,
            token,
            FORGED_TOKEN,
            basic("alice", SecureServers.password("alice")),
            basic("alice", WRONG_PASSWORD));
    assertThat(errors).hasSize(5).allSatisfy(e -> assertThat(e).isNotBlank());
    List<String> logLines = new ArrayList<>();
    for (ILoggingEvent event : logs.list) {
      logLines.add(event.getFormattedMessage());
      if (event.getThrowableProxy() != null) {
        logLines.add(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
    }
    assertThat(logLines)
        .anySatisfy(line -> assertThat(line).contains("Failed login for user 'alice'"));
    List<String> spanText = new ArrayList<>();
    for (SpanData span : finished) {
      spanText.add(span.getName());
      spanText.add(span.getAttributes().toString());
      spanText.add(span.getStatus().toString());
      span.getEvents().forEach(e -> spanText.add(e.getName() + e.getAttributes()));
    }
    assertThat(spanText).as("spans were recorded").isNotEmpty();
    for (String secret : secrets) {
      assertThat(errors).noneSatisfy(e -> assertThat(e).contains(secret));
      assertThat(logLines).noneSatisfy(l -> assertThat(l).contains(secret));
      assertThat(spanText).noneSatisfy(s -> assertThat(s).contains(secret));
    }
    for (List<String> text : List.of(errors, logLines, spanText)) {
      assertThat(text).noneSatisfy(s -> assertThat(s).containsIgnoringCase("authorization"));
      assertThat(text).noneSatisfy(s -> assertThat(s).contains("Bearer "));
    }
  }

  private static String failure(Runnable call) {
    try {
      call.run();
    } catch (FlightRuntimeException e) {
      return e.status().code() + ": " + e.getMessage();
    }
    throw new AssertionError("the call should have failed");
  }

  private static String basic(String user, String password) {
    return Base64.getEncoder()
        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** Records the bearer token the server sends back in a response's headers. */
  private static FlightClientMiddleware.Factory tokenCatcher(AtomicReference<String> token) {
    return info ->
        new FlightClientMiddleware() {
          @Override
          public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {}

          @Override
          public void onHeadersReceived(CallHeaders incomingHeaders) {
            String value = incomingHeaders.get("authorization");
            if (value != null && value.startsWith("Bearer ")) {
              token.set(value.substring("Bearer ".length()));
            }
          }

          @Override
          public void onCallCompleted(CallStatus status) {}
        };
  }
}
