package dev.quiver.server.security;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/** Servers with authentication for the security tests, and the users they know. */
public final class SecureServers {
  /** Every test user's password is its name followed by this. */
  static final String PASSWORD_SUFFIX = "-Secret-Pa55";

  static final Schema SCHEMA =
      new Schema(java.util.List.of(Field.nullable("id", new ArrowType.Int(64, true))));

  private SecureServers() {}

  public static String password(String user) {
    return user + PASSWORD_SUFFIX;
  }

  /**
   * Writes a users file with {@code grants} (user to the grant fields of its line) into {@code
   * dir}, passwords hashed with the fewest iterations the file allows, to keep tests fast.
   */
  public static Path usersFile(Path dir, Map<String, String> grants) throws IOException {
    StringBuilder text = new StringBuilder("# test users\n");
    grants.forEach(
        (user, grant) ->
            text.append(user)
                .append(' ')
                .append(
                    PasswordHash.create(password(user).toCharArray(), PasswordHash.MIN_ITERATIONS))
                .append(' ')
                .append(grant)
                .append('\n'));
    Path file = dir.resolve("users");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }

  /** A server on 127.0.0.1:0 over {@code dir}/data with {@code flags} added. */
  static QuiverServer start(Path dir, Map<String, String> flags) throws IOException {
    Map<String, String> all = new HashMap<>();
    all.put("flight.port", "0");
    all.put("storage.data-dir", dir.resolve("data").toString());
    all.put("memory.total", "256MB");
    all.put("telemetry.enabled", "false");
    all.putAll(flags);
    return QuiverServer.start(ServerConfig.load(Map.of(), Map.of(), all));
  }

  /** Reads every endpoint of {@code info}; returns the row count. */
  static long rows(
      FlightClient client, org.apache.arrow.flight.FlightInfo info, CallOption... options)
      throws Exception {
    long rows = 0;
    for (var endpoint : info.getEndpoints()) {
      try (org.apache.arrow.flight.FlightStream stream =
          client.getStream(endpoint.getTicket(), options)) {
        while (stream.next()) {
          rows += stream.getRoot().getRowCount();
        }
      }
    }
    return rows;
  }

  /** Logs {@code user} in through Flight's Basic handshake and returns the bearer call option. */
  static CredentialCallOption logIn(FlightClient client, String user) {
    return client.authenticateBasicToken(user, password(user)).orElseThrow();
  }

  /** Puts {@code rows} rows (ids 0..rows-1) into {@code ns.table} as {@code token}'s user. */
  static void put(
      FlightClient client,
      BufferAllocator allocator,
      String ns,
      String table,
      int rows,
      CallOption token) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
      BigIntVector ids = (BigIntVector) root.getVector("id");
      for (int i = 0; i < rows; i++) {
        ids.setSafe(i, i);
      }
      root.setRowCount(rows);
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream =
          client.startPut(FlightDescriptor.path(ns, table), root, listener, token);
      stream.putNext();
      stream.completed();
      stream.getResult();
      listener.close();
    }
  }
}
