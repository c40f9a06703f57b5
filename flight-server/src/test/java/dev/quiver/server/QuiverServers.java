package dev.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.flight.TestServers;
import dev.quiver.testing.Await;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.util.AutoCloseables;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts Quiver servers for a test (on 127.0.0.1, a free port) and, after the test, checks that
 * each server's memory came back to zero (every call closed, nothing allocated) before closing it.
 * Register it as a field: {@code @RegisterExtension final QuiverServers servers = new
 * QuiverServers();}.
 */
public final class QuiverServers implements AfterEachCallback {
  private static final Duration CALLS_CLOSE = Duration.ofSeconds(60);

  private final List<QuiverServer> started = new ArrayList<>();
  private final String skipMemoryCheck;

  public QuiverServers() {
    this(null);
  }

  private QuiverServers(String skipMemoryCheck) {
    this.skipMemoryCheck = skipMemoryCheck;
  }

  /**
   * Servers whose memory is not checked after each test, for {@code reason}: a known, open bug that
   * the check would report; use it for nothing else.
   */
  public static QuiverServers withoutMemoryCheck(String reason) {
    return new QuiverServers(java.util.Objects.requireNonNull(reason, "reason is null"));
  }

  /** Starts a server on {@code dataDir} with {@code settings} (key, value pairs of config keys). */
  public QuiverServer start(Path dataDir, String... settings) throws IOException {
    QuiverServer server = TestServers.start(dataDir, settings);
    started.add(server);
    return server;
  }

  /** Starts a server with {@code config}. */
  public QuiverServer start(ServerConfig config) throws IOException {
    QuiverServer server = QuiverServer.start(config);
    started.add(server);
    return server;
  }

  /**
   * Checks {@code server}'s memory as after a test, then closes it: for a test that restarts its
   * server on the same data folder midway.
   */
  public void stop(QuiverServer server) throws Exception {
    if (!started.remove(server)) {
      throw new IllegalArgumentException("not started here: " + server.uri());
    }
    try {
      if (skipMemoryCheck == null) {
        awaitMemoryReturned(server);
      }
    } finally {
      server.close();
    }
  }

  /**
   * Waits until every server's calls have closed and their Arrow memory is back to zero; fails the
   * test if that takes longer than a minute.
   */
  public void awaitMemoryReturned() throws InterruptedException {
    for (QuiverServer server : started) {
      awaitMemoryReturned(server);
    }
  }

  private static void awaitMemoryReturned(QuiverServer server) throws InterruptedException {
    boolean closed = server.memory().awaitCallsClosed(CALLS_CLOSE);
    assertThat(closed)
        .as(
            "every call of the server at %s closed; open: %s",
            server.uri(), server.memory().report().calls())
        .isTrue();
    Await.until(
        () -> server.memory().allocated() == 0,
        "the memory of the server at " + server.uri() + " to return to zero");
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    try {
      if (context.getExecutionException().isEmpty() && skipMemoryCheck == null) {
        awaitMemoryReturned();
      }
    } finally {
      AutoCloseables.close(started);
      started.clear();
    }
  }
}
