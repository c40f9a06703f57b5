package dev.quiver.server.security;

import static dev.quiver.server.security.SecureServers.logIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.PostgresExtension;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.auth2.BearerCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens are signed with a key kept in the catalog database: a token one node issued works
 * on every node sharing that catalog and after a restart, and on no node of another catalog.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedTokensTest {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();

  private static final FlightDescriptor ORDERS = FlightDescriptor.path("sales", "orders");

  @TempDir Path dir;

  private QuiverServer start(Path users, String name, String catalogUri) throws Exception {
    return SecureServers.start(
        dir.resolve(name),
        Map.of(
            "security.users-file",
            users.toString(),
            "catalog.uri",
            catalogUri,
            "catalog.user",
            POSTGRES.user(),
            "storage.warehouse",
            dir.resolve("warehouse-" + catalogUri.hashCode()).toString()));
  }

  @Test
  void aTokenFromOneNodeWorksOnTheOtherAndAfterARestart(BufferAllocator allocator)
      throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "sales=read,write"));
    String catalog = POSTGRES.newDatabase();
    CredentialCallOption token;
    try (QuiverServer nodeA = start(users, "a", catalog);
        QuiverServer nodeB = start(users, "b", catalog);
        FlightClient clientA = FlightClient.builder(allocator, nodeA.location()).build();
        FlightClient clientB = FlightClient.builder(allocator, nodeB.location()).build()) {
      token = logIn(clientA, "alice");
      SecureServers.put(clientA, allocator, "sales", "orders", 7, token);
      assertThat(clientB.getInfo(ORDERS, token).getRecords()).isEqualTo(7);
    }
    try (QuiverServer restarted = start(users, "a", catalog);
        FlightClient client = FlightClient.builder(allocator, restarted.location()).build()) {
      assertThat(client.getInfo(ORDERS, token).getRecords()).isEqualTo(7);
    }
  }

  @Test
  void aTokenOfAnotherCatalogIsRefused(BufferAllocator allocator) throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "sales=read,write"));
    try (QuiverServer one = start(users, "one", POSTGRES.newDatabase());
        QuiverServer other = start(users, "other", POSTGRES.newDatabase());
        FlightClient clientOne = FlightClient.builder(allocator, one.location()).build();
        FlightClient clientOther = FlightClient.builder(allocator, other.location()).build()) {
      CredentialCallOption token = logIn(clientOne, "alice");
      SecureServers.put(clientOne, allocator, "sales", "orders", 3, token);
      SecureServers.put(clientOther, allocator, "sales", "orders", 3, logIn(clientOther, "alice"));
      assertThatThrownBy(() -> clientOther.getInfo(ORDERS, token))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED))
          .hasMessageContaining("The bearer token is not valid");
      CredentialCallOption forged = new CredentialCallOption(new BearerCredentialWriter("v1.x"));
      assertThatThrownBy(() -> clientOne.getInfo(ORDERS, forged))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED));
    }
  }
}
