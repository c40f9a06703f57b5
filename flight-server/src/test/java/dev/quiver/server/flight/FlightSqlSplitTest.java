package dev.quiver.server.flight;

import static dev.quiver.server.flight.FlightSqlTest.longs;
import static dev.quiver.server.flight.QuiverProducerTest.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.impl.FlightSql.TicketStatementQuery;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SQL query that scans one table row by row is split into one endpoint per share of the table's
 * files; every other query stays one endpoint.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class FlightSqlSplitTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    // One byte per endpoint: every file is a share of its own.
    server =
        servers.start(
            dataDir,
            "memory.total",
            "512MB",
            "sql.threads",
            "2",
            "flight.endpoint-target-size",
            "1");
  }

  @Test
  void aScanOfOneTableIsOneEndpointPerFileAndTheirUnionIsTheResult(BufferAllocator allocator)
      throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      for (int i = 0; i < 4; i++) {
        put(flight, allocator, "ns", "four", i * 1000L, 1000, 1);
      }

      FlightInfo info = sql.execute("SELECT id, upper(name) AS n FROM ns.four WHERE id % 2 = 0");

      assertThat(info.getEndpoints()).hasSize(4);
      assertThat(longs(flight, info, "id"))
          .isEqualTo(LongStream.range(0, 4000).filter(id -> id % 2 == 0).boxed().toList());
      // A column qualified with the table's name still resolves in each share.
      FlightInfo qualified = sql.execute("SELECT four.id FROM ns.four WHERE four.id < 10");
      assertThat(qualified.getEndpoints()).hasSize(4);
      assertThat(longs(flight, qualified, "id"))
          .isEqualTo(LongStream.range(0, 10).boxed().toList());
    }
  }

  @Test
  void queriesThatLookAtMoreThanOneRowStayOneEndpoint(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      for (int i = 0; i < 3; i++) {
        put(flight, allocator, "ns", "three", i * 10L, 10, 1);
      }
      for (String query :
          List.of(
              "SELECT id FROM ns.three ORDER BY id DESC",
              "SELECT id FROM ns.three LIMIT 5",
              "SELECT count(*) AS id FROM ns.three",
              "SELECT DISTINCT id % 3 AS id FROM ns.three",
              "SELECT id, row_number() OVER () AS r FROM ns.three",
              "SELECT a.id FROM ns.three a JOIN ns.three b ON a.id = b.id",
              "SELECT id FROM ns.three WHERE id IN (SELECT max(id) FROM ns.three)")) {
        assertThat(sql.execute(query).getEndpoints()).as(query).hasSize(1);
      }
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.three ORDER BY id DESC"), "id"))
          .isEqualTo(LongStream.range(0, 30).map(i -> 29 - i).boxed().toList());
    }
  }

  @Test
  void aShareTicketForATableItsQueryDoesNotNameIsRefused(BufferAllocator allocator)
      throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "ns", "open", 0, 10, 1);
      put(flight, allocator, "ns", "open", 10, 10, 1);
      put(flight, allocator, "ns", "secret", 0, 10, 1);
      FlightInfo info = sql.execute("SELECT id FROM ns.open");
      assertThat(info.getEndpoints()).hasSize(2);

      Ticket forged = retargeted(info.getEndpoints().get(0).getTicket(), "secret");

      assertThatThrownBy(() -> drain(flight, forged))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("share of table ns.secret does not belong to its query");
    }
  }

  @Test
  void sharesReadTheSnapshotOfTheirFlightInfo(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      put(flight, allocator, "ns", "moving", 0, 10, 1);
      put(flight, allocator, "ns", "moving", 10, 10, 1);
      FlightInfo info = sql.execute("SELECT id FROM ns.moving");

      put(flight, allocator, "ns", "moving", 20, 10, 1);

      assertThat(info.getEndpoints()).hasSize(2);
      assertThat(longs(flight, info, "id")).isEqualTo(LongStream.range(0, 20).boxed().toList());
    }
  }

  private static Ticket retargeted(Ticket ticket, String table) throws Exception {
    ObjectMapper json = new ObjectMapper();
    TicketStatementQuery query =
        Any.parseFrom(ticket.getBytes()).unpack(TicketStatementQuery.class);
    ObjectNode handle = (ObjectNode) json.readTree(query.getStatementHandle().toStringUtf8());
    ((ObjectNode) handle.get("share")).put("table", table);
    return new Ticket(
        Any.pack(
                TicketStatementQuery.newBuilder()
                    .setStatementHandle(ByteString.copyFromUtf8(handle.toString()))
                    .build())
            .toByteArray());
  }

  private static long drain(FlightClient flight, Ticket ticket) throws Exception {
    long rows = 0;
    try (FlightStream stream = flight.getStream(ticket)) {
      while (stream.next()) {
        rows += stream.getRoot().getRowCount();
      }
    }
    return rows;
  }
}
