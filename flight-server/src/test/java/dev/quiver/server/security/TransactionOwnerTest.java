package dev.quiver.server.security;

import static dev.quiver.server.security.SecureServers.logIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.FlightSqlClient.Transaction;
import org.apache.arrow.memory.BufferAllocator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A Flight SQL transaction belongs to the user who began it. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class TransactionOwnerTest {
  @TempDir Path dir;

  @Test
  void anotherUsersTransactionIdIsNotFound(BufferAllocator allocator) throws Exception {
    Path users =
        SecureServers.usersFile(
            dir, Map.of("alice", "sales=read,write", "bob", "sales=read,write"));
    try (QuiverServer server =
            SecureServers.start(dir, Map.of("security.users-file", users.toString()));
        FlightClient client = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(client)) {
      CallOption alice = logIn(client, "alice");
      CallOption bob = logIn(client, "bob");
      SecureServers.put(client, allocator, "sales", "orders", 5, alice);
      Transaction txn = sql.beginTransaction(alice);
      String id = new String(txn.getTransactionId(), StandardCharsets.UTF_8);
      sql.executeUpdate("INSERT INTO sales.orders VALUES (100)", txn, alice);

      String notOpen = "Transaction " + id + " is not open: it was never begun by this user";
      assertNotFound(
          () -> sql.executeUpdate("INSERT INTO sales.orders VALUES (200)", txn, bob), notOpen);
      assertNotFound(() -> sql.commit(txn, bob), notOpen);
      assertNotFound(() -> sql.rollback(txn, bob), notOpen);

      sql.commit(txn, alice);
      assertThat(
              SecureServers.rows(
                  client, client.getInfo(FlightDescriptor.path("sales", "orders"), alice), alice))
          .isEqualTo(6);
    }
  }

  private static void assertNotFound(ThrowingCallable call, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
        .hasMessageContaining(message);
  }
}
