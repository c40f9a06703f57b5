package dev.quiver.server.security;

import static dev.quiver.server.security.SecureServers.logIn;
import static dev.quiver.server.security.SecureServers.password;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.auth2.BearerCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Flight's Basic-then-Bearer handshake against a real in-process server with a users file. */
@ExtendWith(ArrowAllocatorExtension.class)
class AuthenticationTest {
  @TempDir Path dir;
  private QuiverServer server;

  private QuiverServer start(String tokenLifetime) throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "*=read,write,admin"));
    server =
        SecureServers.start(
            dir,
            Map.of(
                "security.users-file", users.toString(), "security.token-lifetime", tokenLifetime));
    return server;
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void basicCredentialsBuyABearerTokenThatLaterCallsCarry(BufferAllocator allocator)
      throws Exception {
    start("1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      CredentialCallOption token = logIn(client, "alice");
      SecureServers.put(client, allocator, "sales", "orders", 7, token);

      FlightInfo info = client.getInfo(FlightDescriptor.path("sales", "orders"), token);
      assertThat(info.getRecords()).isEqualTo(7);
      List<FlightInfo> listed = new ArrayList<>();
      client.listFlights(Criteria.ALL, token).forEach(listed::add);
      assertThat(listed).hasSize(1);
    }
  }

  @Test
  void aCallWithoutCredentialsIsUnauthenticated(BufferAllocator allocator) throws Exception {
    start("1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      assertThatThrownBy(() -> client.listFlights(Criteria.ALL).forEach(f -> {}))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED))
          .hasMessageContaining("Authentication required");
      assertThatThrownBy(() -> client.getInfo(FlightDescriptor.path("a", "b")))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED));
    }
  }

  @Test
  void aWrongPasswordOrUnknownUserIsUnauthenticatedWithoutSayingWhich(BufferAllocator allocator)
      throws Exception {
    start("1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (String[] login :
          new String[][] {{"alice", "wrong-password"}, {"mallory", password("alice")}}) {
        assertThatThrownBy(() -> client.authenticateBasicToken(login[0], login[1]))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED))
            .hasMessageContaining("Invalid user name or password")
            .hasMessageNotContaining(login[1]);
      }
    }
  }

  @Test
  void aForgedBearerTokenIsUnauthenticated(BufferAllocator allocator) throws Exception {
    start("1h");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      CredentialCallOption forged = new CredentialCallOption(new BearerCredentialWriter("forged"));
      assertThatThrownBy(() -> client.listFlights(Criteria.ALL, forged).forEach(f -> {}))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED))
          .hasMessageContaining("The bearer token is not valid")
          .hasMessageNotContaining("forged");
    }
  }

  @Test
  void anExpiredTokenIsUnauthenticatedAndLoggingInAgainWorks(BufferAllocator allocator)
      throws Exception {
    start("1s");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      CredentialCallOption token = logIn(client, "alice");
      client.listFlights(Criteria.ALL, token).forEach(f -> {});
      Instant deadline = Instant.now().plusSeconds(30);
      FlightRuntimeException refused = null;
      while (refused == null && Instant.now().isBefore(deadline)) {
        try {
          client.listFlights(Criteria.ALL, token).forEach(f -> {});
        } catch (FlightRuntimeException e) {
          refused = e;
        }
      }
      assertThat(refused).as("the token expired within 30 s").isNotNull();
      assertThat(refused.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED);
      assertThat(refused).hasMessageContaining("The bearer token has expired");
      client.listFlights(Criteria.ALL, logIn(client, "alice")).forEach(f -> {});
    }
  }

  @Test
  void aScanWhoseTokenExpiresAfterPlanningLogsInAgainOnceAndReads(BufferAllocator allocator)
      throws Exception {
    start("1s");
    ClientOptions options = aliceOptions(allocator);
    TableId table = TableId.of("sdk", "scanned");
    try (QuiverClient client = QuiverClient.connect(server.location(), options);
        VectorSchemaRoot root = VectorSchemaRoot.create(SecureServers.SCHEMA, allocator)) {
      ((BigIntVector) root.getVector("id")).setSafe(0, 7);
      root.setRowCount(1);
      client.put(table, root);
      // Planned with a live token (logging in first if it had expired already) ...
      try (ArrowReader reader = client.scan(table)) {
        // ... and read only once that token is certainly past its 1 s lifetime, so the DoGet is
        // refused as expired and the reader must log in again by itself.
        // What is awaited is time itself (the server's clock passing the token's expiry).
        TimeUnit.MILLISECONDS.sleep(1500);
        assertThat(reader.loadNextBatch()).isTrue();
        assertThat(((BigIntVector) reader.getVectorSchemaRoot().getVector("id")).get(0))
            .isEqualTo(7);
        assertThat(reader.loadNextBatch()).isFalse();
      }
    }
  }

  @Test
  void theSdkLogsInWithCredentialsAndAgainWhenItsTokenExpires(BufferAllocator allocator)
      throws Exception {
    start("1s");
    ClientOptions options = aliceOptions(allocator);
    try (QuiverClient client = QuiverClient.connect(server.location(), options);
        VectorSchemaRoot root = VectorSchemaRoot.create(SecureServers.SCHEMA, allocator)) {
      ((BigIntVector) root.getVector("id")).setSafe(0, 42);
      root.setRowCount(1);
      assertThat(client.put(TableId.of("sdk", "t"), root).rows()).isEqualTo(1);
      Instant deadline = Instant.now().plus(Duration.ofSeconds(3));
      long puts = 1;
      while (Instant.now().isBefore(deadline)) {
        // Past the 1 s lifetime the client must log in again by itself.
        assertThat(client.listTables("sdk")).containsExactly(TableId.of("sdk", "t"));
        assertThat(client.put(TableId.of("sdk", "t"), root).rows()).isEqualTo(1);
        puts++;
      }
      // A request-response call, which logs in again by itself (so does a scan's DoGet: see
      // aScanWhoseTokenExpiresAfterPlanningLogsInAgainOnceAndReads).
      List<dev.quiver.client.SnapshotInfo> snapshots = client.snapshots(TableId.of("sdk", "t"));
      assertThat(snapshots.get(snapshots.size() - 1).totalRecords())
          .as("every put committed exactly once")
          .isEqualTo(puts);
    }
    ClientOptions wrong =
        ClientOptions.builder().parentAllocator(allocator).credentials("alice", "nope").build();
    assertThatThrownBy(() -> QuiverClient.connect(server.location(), wrong))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAUTHENTICATED))
        .hasMessageContaining("Invalid user name or password");
  }

  /** SDK options that log in as alice with her password. */
  private static ClientOptions aliceOptions(BufferAllocator allocator) {
    return ClientOptions.builder()
        .parentAllocator(allocator)
        .credentials("alice", password("alice"))
        .build();
  }
}
