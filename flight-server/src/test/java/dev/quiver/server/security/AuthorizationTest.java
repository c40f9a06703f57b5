package dev.quiver.server.security;

import static dev.quiver.server.security.SecureServers.logIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.PutMode;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Per-user read, write and admin grants on namespaces, checked on every call. */
@ExtendWith(ArrowAllocatorExtension.class)
class AuthorizationTest {
  @TempDir Path dir;
  private QuiverServer server;
  private BufferAllocator allocator;
  private FlightClient client;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    this.allocator = allocator;
    Path users =
        SecureServers.usersFile(
            dir,
            Map.of(
                "alice", "sales=read,write",
                "bob", "sales=read",
                "carol", "",
                "dave", "sales=write",
                "ops", "*=read,write,admin"));
    server = SecureServers.start(dir, Map.of("security.users-file", users.toString()));
    client = FlightClient.builder(allocator, server.location()).build();
    SecureServers.put(client, allocator, "sales", "orders", 5, logIn(client, "alice"));
    SecureServers.put(client, allocator, "hr", "salaries", 3, logIn(client, "ops"));
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.close();
  }

  private static void assertDenied(ThrowingCallable call, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHORIZED))
        .hasMessageContaining(message);
  }

  private List<String> listed(CallOption token) {
    List<String> names = new ArrayList<>();
    for (FlightInfo info : client.listFlights(Criteria.ALL, token)) {
      names.add(String.join(".", info.getDescriptor().getPath()));
    }
    return names;
  }

  private long rows(FlightInfo info, CallOption token) throws Exception {
    return SecureServers.rows(client, info, token);
  }

  private String action(String type, String body, CallOption token) {
    Iterator<Result> results =
        client.doAction(new Action(type, body.getBytes(StandardCharsets.UTF_8)), token);
    return new String(results.next().getBody(), StandardCharsets.UTF_8);
  }

  @Test
  void readersReadAndOnlyWritersWrite() throws Exception {
    CallOption bob = logIn(client, "bob");
    FlightInfo info = client.getInfo(FlightDescriptor.path("sales", "orders"), bob);
    assertThat(rows(info, bob)).isEqualTo(5);
    assertThat(client.getSchema(FlightDescriptor.path("sales", "orders"), bob).getSchema())
        .isEqualTo(SecureServers.SCHEMA);

    assertDenied(
        () -> SecureServers.put(client, allocator, "sales", "orders", 1, bob),
        "User bob lacks write on namespace sales");
    assertDenied(
        () -> client.getInfo(FlightDescriptor.path("hr", "salaries"), bob),
        "User bob lacks read on namespace hr");
  }

  @Test
  void putCommandsNeedWriteAndReadWhenTheyMatchRows() throws Exception {
    CallOption bob = logIn(client, "bob");
    CallOption dave = logIn(client, "dave");
    PutCommand overwrite =
        PutCommand.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace("sales").setName("orders"))
            .setMode(PutMode.PUT_MODE_OVERWRITE)
            .build();
    PutCommand upsert =
        overwrite.toBuilder().setMode(PutMode.PUT_MODE_UPSERT).addKeyColumns("id").build();

    assertDenied(() -> putCommand(overwrite, bob), "User bob lacks write on namespace sales");
    assertDenied(() -> putCommand(upsert, dave), "User dave lacks read on namespace sales");
    putCommand(overwrite, dave); // replacing every row reads none

    CallOption alice = logIn(client, "alice");
    assertThat(rows(client.getInfo(FlightDescriptor.path("sales", "orders"), alice), alice))
        .isEqualTo(2);
  }

  /** Puts ids 0 and 1 into the table {@code command} names, as {@code token}'s user. */
  private void putCommand(PutCommand command, CallOption token) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SecureServers.SCHEMA, allocator)) {
      BigIntVector ids = (BigIntVector) root.getVector("id");
      ids.setSafe(0, 0);
      ids.setSafe(1, 1);
      root.setRowCount(2);
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream =
          client.startPut(
              FlightDescriptor.command(Any.pack(command).toByteArray()), root, listener, token);
      stream.putNext();
      stream.completed();
      stream.getResult();
      listener.close();
    }
  }

  @Test
  void aTicketIsCheckedWhoeverObtainedIt() throws Exception {
    CallOption ops = logIn(client, "ops");
    Ticket ticket =
        client
            .getInfo(FlightDescriptor.path("hr", "salaries"), ops)
            .getEndpoints()
            .get(0)
            .getTicket();
    CallOption alice = logIn(client, "alice");
    assertDenied(
        () -> {
          try (FlightStream stream = client.getStream(ticket, alice)) {
            stream.next();
          }
        },
        "User alice lacks read on namespace hr");
  }

  @Test
  void listingsShowOnlyWhatTheUserMayRead() {
    assertThat(listed(logIn(client, "bob"))).containsExactly("sales.orders");
    assertThat(listed(logIn(client, "carol"))).isEmpty();
    assertThat(listed(logIn(client, "ops")))
        .containsExactlyInAnyOrder("sales.orders", "hr.salaries");
  }

  @Test
  void actionsNeedTheRightOfWhatTheyTouch() {
    CallOption bob = logIn(client, "bob");
    String table = "{\"namespace\": \"sales\", \"table\": \"orders\"}";
    assertThat(action("list-snapshots", table, bob)).contains("\"table\":\"sales.orders\"");
    assertThat(action("server-info", "", bob)).contains("\"name\":\"quiver\"");
    assertDenied(() -> action("drop-table", table, bob), "User bob lacks write on namespace sales");
    assertDenied(
        () -> action("expire-snapshots", table, bob), "User bob lacks write on namespace sales");
    assertDenied(
        () -> action("compact-table", table, bob), "User bob lacks write on namespace sales");
    assertThat(action("expire-snapshots", table, logIn(client, "alice")))
        .contains("\"snapshots_expired\":0");
    assertDenied(
        () -> action("memory-report", "", logIn(client, "alice")),
        "User alice lacks admin on all namespaces (*), which action memory-report needs");
    assertThat(action("memory-report", "", logIn(client, "ops"))).contains("\"allocated\"");
    assertDenied(
        () -> action("remove-orphan-files", "{}", bob),
        "User bob lacks admin on all namespaces (*)");
  }

  @Test
  void rowChangesNeedWriteOnTheTableAndReadOnWhatTheyRead() throws Exception {
    CallOption bob = logIn(client, "bob");
    CallOption alice = logIn(client, "alice");
    FlightSqlClient sql = new FlightSqlClient(client); // closed with the client in stop()
    for (String statement :
        List.of(
            "DELETE FROM sales.orders WHERE id = 1",
            "UPDATE sales.orders SET id = 7",
            "MERGE INTO sales.orders USING sales.orders s ON orders.id = s.id"
                + " WHEN MATCHED THEN DELETE",
            "ALTER TABLE sales.orders ADD COLUMN note VARCHAR")) {
      assertDenied(
          () -> sql.executeUpdate(statement, bob), "User bob lacks write on namespace sales");
    }
    assertDenied(
        () ->
            sql.executeUpdate(
                "DELETE FROM sales.orders WHERE id IN (SELECT id FROM hr.salaries)", alice),
        "User alice lacks read on namespace hr");
    assertDenied(
        () ->
            sql.executeUpdate(
                "MERGE INTO sales.orders o USING hr.salaries s ON o.id = s.id"
                    + " WHEN MATCHED THEN DELETE",
                alice),
        "User alice lacks read on namespace hr");
    assertThat(sql.executeUpdate("UPDATE sales.orders SET id = id + 100 WHERE id = 0", alice))
        .isEqualTo(1);
    assertThat(sql.executeUpdate("DELETE FROM sales.orders WHERE id = 1", alice)).isEqualTo(1);
    assertThat(rows(sql.execute("SELECT id FROM sales.orders", bob), bob)).isEqualTo(4);
  }

  @Test
  void sqlNeedsReadOnEveryTableItNames() throws Exception {
    CallOption bob = logIn(client, "bob");
    // Not closed: closing a FlightSqlClient closes the FlightClient under it (closed in stop()).
    FlightSqlClient sql = new FlightSqlClient(client);
    {
      assertThat(rows(sql.execute("SELECT id FROM sales.orders", bob), bob)).isEqualTo(5);
      assertThat(
              rows(
                  sql.execute(
                      "WITH o AS (SELECT id FROM sales.orders) SELECT * FROM o WHERE id < 2", bob),
                  bob))
          .as("WITH names are not tables")
          .isEqualTo(2);
      assertDenied(
          () -> sql.execute("SELECT * FROM hr.salaries", bob),
          "User bob lacks read on namespace hr");
      assertDenied(
          () ->
              sql.execute(
                  "SELECT * FROM sales.orders o JOIN (SELECT * FROM quiver.hr.salaries) s"
                      + " ON o.id = s.id",
                  bob),
          "User bob lacks read on namespace hr");
      assertDenied(
          () ->
              sql.execute(
                  "SELECT * FROM read_parquet('" + dir.resolve("data") + "/**/*.parquet')", bob),
          "User bob may not call table function read_parquet");
      assertDenied(
          () -> sql.execute("SELECT * FROM duckdb_views", bob),
          "User bob may not read duckdb_views");
      assertDenied(
          () -> sql.executeUpdate("INSERT INTO sales.orders VALUES (9)", bob),
          "User bob lacks write on namespace sales");
      assertDenied(
          () -> sql.prepare("SELECT * FROM hr.salaries", bob),
          "User bob lacks read on namespace hr");
      CallOption alice = logIn(client, "alice");
      assertThat(sql.executeUpdate("INSERT INTO sales.orders VALUES (9)", alice)).isEqualTo(1);
      assertDenied(
          () -> sql.executeUpdate("INSERT INTO sales.orders SELECT id FROM hr.salaries", alice),
          "User alice lacks read on namespace hr");
      assertDenied(
          () -> sql.executeUpdate("DROP TABLE hr.salaries", alice),
          "User alice lacks write on namespace hr");
    }
  }

  @Test
  void aSqlTicketIsCheckedForWhoeverRedeemsIt() throws Exception {
    FlightSqlClient sql = new FlightSqlClient(client); // closed with the client in stop()
    CallOption ops = logIn(client, "ops");
    Ticket ticket = sql.execute("SELECT * FROM hr.salaries", ops).getEndpoints().get(0).getTicket();
    CallOption bob = logIn(client, "bob");
    assertDenied(
        () -> {
          try (FlightStream stream = client.getStream(ticket, bob)) {
            stream.next();
          }
        },
        "User bob lacks read on namespace hr");
    assertThat(SecureServers.rows(client, sql.execute("SELECT * FROM hr.salaries", ops), ops))
        .isEqualTo(3);
  }

  @Test
  void bulkIngestNeedsWrite() throws Exception {
    FlightSqlClient sql = new FlightSqlClient(client); // closed with the client in stop()
    CallOption bob = logIn(client, "bob");
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SecureServers.SCHEMA, allocator)) {
      ((BigIntVector) root.getVector("id")).setSafe(0, 1);
      root.setRowCount(1);
      FlightSqlClient.ExecuteIngestOptions options =
          new FlightSqlClient.ExecuteIngestOptions(
              "orders",
              TableDefinitionOptions.newBuilder()
                  .setIfExists(TableDefinitionOptions.TableExistsOption.TABLE_EXISTS_OPTION_APPEND)
                  .build(),
              "quiver", // catalog
              "sales", // schema: the namespace
              Map.of());
      assertDenied(
          () -> sql.executeIngest(root, options, bob), "User bob lacks write on namespace sales");
      assertThat(sql.executeIngest(root, options, logIn(client, "alice"))).isEqualTo(1);
    }
  }

  @Test
  void sqlMetadataShowsOnlyReadableNamespaces() throws Exception {
    CallOption bob = logIn(client, "bob");
    FlightSqlClient sql = new FlightSqlClient(client); // closed with the client in stop()
    {
      assertThat(strings(sql.getSchemas(null, null, bob), "db_schema_name", bob))
          .containsExactly("sales");
      assertThat(strings(sql.getTables(null, null, null, null, false, bob), "table_name", bob))
          .containsExactly("orders");
    }
  }

  private List<String> strings(FlightInfo info, String column, CallOption token) throws Exception {
    List<String> values = new ArrayList<>();
    try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket(), token)) {
      while (stream.next()) {
        VarCharVector vector = (VarCharVector) stream.getRoot().getVector(column);
        for (int i = 0; i < vector.getValueCount(); i++) {
          values.add(vector.getObject(i).toString());
        }
      }
    }
    return values;
  }
}
