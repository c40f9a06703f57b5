package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Without authentication the server stays on loopback unless the operator opts in, loudly. */
class SafeDefaultsTest {
  @TempDir Path dir;

  @Test
  void theDefaultHostIsLoopback() {
    assertThat(ServerConfig.defaults().flight().host()).isEqualTo("127.0.0.1");
    assertThat(ServerSecurity.isLoopback("127.0.0.1")).isTrue();
    assertThat(ServerSecurity.isLoopback("localhost")).isTrue();
    assertThat(ServerSecurity.isLoopback("::1")).isTrue();
    assertThat(ServerSecurity.isLoopback("0.0.0.0")).isFalse();
  }

  @Test
  void bindingBeyondLoopbackWithoutAuthenticationIsRefusedBeforeAnythingOpens() {
    assertThatThrownBy(() -> SecureServers.start(dir, Map.of("flight.host", "0.0.0.0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Refusing to listen on 0.0.0.0 without authentication")
        .hasMessageContaining("security.users-file")
        .hasMessageContaining("security.allow-unauthenticated-remote=true");
    assertThat(Files.exists(dir.resolve("data"))).as("nothing was created").isFalse();
  }

  @Test
  void theOptInStartsTheServerAndWarns() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(ServerSecurity.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    try (QuiverServer server =
        SecureServers.start(
            dir,
            Map.of("flight.host", "0.0.0.0", "security.allow-unauthenticated-remote", "true"))) {
      assertThat(server.port()).isPositive();
    } finally {
      logger.detachAppender(events);
    }
    assertThat(events.list)
        .anySatisfy(
            e -> {
              assertThat(e.getLevel()).isEqualTo(Level.WARN);
              assertThat(e.getFormattedMessage())
                  .contains("listening on 0.0.0.0 WITHOUT AUTHENTICATION");
            });
  }

  @Test
  void withAuthenticationAnyAddressMayBeBound() throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "*=read"));
    try (QuiverServer server =
        SecureServers.start(
            dir, Map.of("flight.host", "0.0.0.0", "security.users-file", users.toString()))) {
      assertThat(server.port()).isPositive();
    }
  }

  @Test
  void aMissingOrMalformedUsersFileStopsTheStart() throws Exception {
    assertThatThrownBy(
            () ->
                SecureServers.start(
                    dir, Map.of("security.users-file", dir.resolve("absent").toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no such readable file");
    Path bad = Files.writeString(dir.resolve("bad-users"), "alice hunter2 *=read\n");
    assertThatThrownBy(
            () -> SecureServers.start(dir, Map.of("security.users-file", bad.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 1 (user alice): A password hash reads")
        .hasMessageNotContaining("hunter2");
  }
}
