package dev.quiver.server.flight;

import static dev.quiver.server.flight.QuiverProducerTest.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Flight SQL against a real in-process server, driven by Arrow's FlightSqlClient. */
@ExtendWith(ArrowAllocatorExtension.class)
class FlightSqlTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = startServer(servers, dataDir);
  }

  /** A server on port 0 in {@code dataDir} with 2 SQL threads, as the SQL tests use it. */
  static QuiverServer startServer(QuiverServers servers, Path dataDir) throws Exception {
    return servers.start(dataDir, "memory.total", "512MB", "sql.threads", "2");
  }

  @Test
  void statementQueryReadsTheCurrentSnapshot(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "sales", "orders", 0, 100, 2);

      FlightInfo info = sql.execute("SELECT sum(id) AS total, count(*) AS n FROM sales.orders");

      assertThat(info.getSchemaOptional().orElseThrow().getFields())
          .extracting(Field::getName)
          .containsExactly("total", "n");
      assertThat(longs(flight, info, "n")).containsExactly(200L);

      put(flight, allocator, "sales", "orders", 200, 50, 1);
      assertThat(longs(flight, sql.execute("SELECT count(*) AS n FROM sales.orders"), "n"))
          .containsExactly(250L);
    }
  }

  @Test
  void sqlTextAsACommandRunsTheQuery(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      put(flight, allocator, "ns", "t", 0, 10, 1);

      FlightInfo info =
          flight.getInfo(
              FlightDescriptor.command(
                  "SELECT id FROM ns.t WHERE id < 3 ORDER BY id".getBytes(StandardCharsets.UTF_8)));

      assertThat(longs(flight, info, "id")).containsExactly(0L, 1L, 2L);
    }
  }

  @Test
  void preparedStatementBindsParameters(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "ns", "p", 0, 100, 1);
      try (FlightSqlClient.PreparedStatement prepared =
          sql.prepare("SELECT id FROM ns.p WHERE id >= ? ORDER BY id")) {
        Schema parameters = prepared.getParameterSchema();
        assertThat(parameters.getFields()).hasSize(1);
        assertThat(parameters.getFields().get(0).getType()).isEqualTo(new ArrowType.Int(64, true));
        try (VectorSchemaRoot root = VectorSchemaRoot.create(parameters, allocator)) {
          ((BigIntVector) root.getVector(0)).setSafe(0, 97);
          root.setRowCount(1);
          prepared.setParameters(root);
          assertThat(longs(flight, prepared.execute(), "id")).containsExactly(97L, 98L, 99L);
        }
      }
    }
  }

  @Test
  void syntaxErrorIsInvalidArgumentWithDuckDbsMessage(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      assertThatThrownBy(() -> sql.execute("SELEC 1"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("syntax error at or near \"SELEC\"");
    }
  }

  @Test
  void unknownTableIsNotFoundNamingIt(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      assertThatThrownBy(() -> sql.execute("SELECT * FROM nope.missing"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("nope.missing");
    }
  }

  @Test
  void aQueryFailingAtRunTimeReportsDuckDbsMessage(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "ns", "r", 0, 10, 1);
      FlightInfo info = sql.execute("SELECT CAST(name AS BIGINT) AS n FROM ns.r");

      assertThatThrownBy(() -> longs(flight, info, "n"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("Could not convert string 'name-0' to INT64");
    }
  }

  @Test
  void sessionSchemaResolvesUnqualifiedNames(BufferAllocator allocator) throws Exception {
    try (FlightClient flight =
            FlightClient.builder(allocator, server.location())
                .intercept(new org.apache.arrow.flight.client.ClientCookieMiddleware.Factory())
                .build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "home", "t", 0, 4, 1);
      var result =
          sql.setSessionOptions(
              new org.apache.arrow.flight.SetSessionOptionsRequest(
                  Map.of(
                      "schema",
                      org.apache.arrow.flight.SessionOptionValueFactory.makeSessionOptionValue(
                          "home"),
                      "catalog",
                      org.apache.arrow.flight.SessionOptionValueFactory.makeSessionOptionValue(
                          "elsewhere"))));

      assertThat(result.getErrors()).containsOnlyKeys("catalog");
      assertThat(longs(flight, sql.execute("SELECT count(*) AS n FROM t"), "n"))
          .containsExactly(4L);
      assertThat(
              sql.getSessionOptions(new org.apache.arrow.flight.GetSessionOptionsRequest())
                  .getSessionOptions())
          .containsOnlyKeys("schema");
    }
  }

  @Test
  void sqlCannotReadFilesOutsideTheDataFolder(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      assertThatThrownBy(() -> sql.execute("SELECT * FROM read_csv('/etc/passwd')"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHORIZED))
          .hasMessageContaining("/etc/passwd");
    }
  }

  @Test
  void getTablesListsTablesWithTheirSchemas(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "ns", "a", 0, 1, 1);
      put(flight, allocator, "other", "b", 0, 1, 1);

      FlightInfo info = sql.getTables("quiver", "n%", null, null, true);

      List<String> names = new ArrayList<>();
      try (FlightStream stream = flight.getStream(info.getEndpoints().get(0).getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            names.add(
                root.getVector("db_schema_name").getObject(i)
                    + "."
                    + root.getVector("table_name").getObject(i));
            byte[] schema = (byte[]) root.getVector("table_schema").getObject(i);
            assertThat(Schema.deserializeMessage(java.nio.ByteBuffer.wrap(schema)).getFields())
                .extracting(Field::getName)
                .containsExactly("id", "name");
          }
        }
      }
      assertThat(names).containsExactly("ns.a");
    }
  }

  @Test
  void xdbcTypeInfoListsTheSqlTypes(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      FlightInfo info = sql.getXdbcTypeInfo();
      List<String> names = new ArrayList<>();
      try (FlightStream stream = flight.getStream(info.getEndpoints().get(0).getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            names.add(root.getVector("type_name").getObject(i).toString());
          }
          assertThat(root.getVector("create_params").getObject(4).toString())
              .isEqualTo("[\"precision\",\"scale\"]");
        }
      }
      assertThat(names).contains("BIGINT", "VARCHAR", "DECIMAL", "TIMESTAMP WITH TIME ZONE");
    }
  }

  @Test
  void cancelFlightInfoStopsAQueryBeforeItsFirstRow(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      // DuckDB needs minutes for this aggregate's one row.
      FlightInfo info = sql.execute("SELECT count(*) FROM range(1000000000000) t(i)");
      java.util.concurrent.CompletableFuture<List<Long>> reading =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return longs(flight, info, "count_star()");
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              });

      assertThat(sql.cancelFlightInfo(new org.apache.arrow.flight.CancelFlightInfoRequest(info)))
          .extracting(org.apache.arrow.flight.CancelFlightInfoResult::getStatus)
          .isEqualTo(org.apache.arrow.flight.CancelStatus.CANCELLED);

      assertThatThrownBy(() -> reading.get(60, java.util.concurrent.TimeUnit.SECONDS))
          .hasCauseInstanceOf(FlightRuntimeException.class)
          .hasMessageContaining("The SQL query was cancelled")
          .satisfies(
              e ->
                  assertThat(((FlightRuntimeException) e.getCause()).status().code())
                      .isEqualTo(FlightStatusCode.CANCELLED));
    }
  }

  static List<Long> longs(FlightClient client, FlightInfo info, String column) throws Exception {
    List<Long> values = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            values.add(((Number) root.getVector(column).getObject(i)).longValue());
          }
        }
      }
    }
    return values;
  }
}
