package dev.quiver.server.flight;

import static dev.quiver.server.flight.FlightSqlTest.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableExistsOption;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableNotExistOption;
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

/** Flight SQL updates and bulk ingest against a real in-process server. */
@ExtendWith(ArrowAllocatorExtension.class)
class FlightSqlUpdateTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final Schema IDS =
      new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true))));

  @TempDir Path dataDir;
  private QuiverServer server;

  @BeforeEach
  void start() throws Exception {
    server = FlightSqlTest.startServer(servers, dataDir);
  }

  @Test
  void createInsertSelectAndDrop(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      assertThat(sql.executeUpdate("CREATE TABLE ns.t (id BIGINT, label VARCHAR)")).isZero();
      assertThat(sql.executeUpdate("INSERT INTO ns.t VALUES (1, 'one'), (2, 'two')")).isEqualTo(2);
      assertThat(sql.executeUpdate("INSERT INTO ns.t SELECT id + 10, label FROM ns.t"))
          .isEqualTo(2);
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.t ORDER BY id"), "id"))
          .containsExactly(1L, 2L, 11L, 12L);
      assertThat(sql.executeUpdate("CREATE TABLE ns.copy AS SELECT * FROM ns.t WHERE id > 10"))
          .isEqualTo(2);
      assertThat(sql.executeUpdate("DROP TABLE ns.copy")).isZero();
      assertThat(sql.executeUpdate("DROP TABLE IF EXISTS ns.copy")).isZero();

      assertThatThrownBy(() -> sql.execute("SELECT * FROM ns.copy"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.NOT_FOUND))
          .hasMessageContaining("ns.copy");
    }
  }

  @Test
  void aFailedInsertCommitsNothing(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate("CREATE TABLE ns.safe (id BIGINT)");
      sql.executeUpdate("INSERT INTO ns.safe VALUES (1)");

      assertThatThrownBy(() -> sql.executeUpdate("INSERT INTO ns.safe VALUES ('not a number')"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("not a number");
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.safe"), "id")).containsExactly(1L);
    }
  }

  @Test
  void otherStatementsThatChangeDataAreRefusedClearly(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate("CREATE TABLE ns.u (id BIGINT)");
      for (String statement : List.of("ALTER VIEW ns.u RENAME TO v", "TRUNCATE ns.u")) {
        assertThatThrownBy(() -> sql.executeUpdate(statement))
            .isInstanceOfSatisfying(
                FlightRuntimeException.class,
                e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNIMPLEMENTED))
            .hasMessageContaining("is not supported");
      }
    }
  }

  @Test
  void preparedInsertBindsParameters(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      sql.executeUpdate("CREATE TABLE ns.p (id BIGINT)");
      try (FlightSqlClient.PreparedStatement prepared = sql.prepare("INSERT INTO ns.p VALUES (?)");
          VectorSchemaRoot parameters =
              VectorSchemaRoot.create(prepared.getParameterSchema(), allocator)) {
        assertThat(prepared.getParameterSchema().getFields().get(0).getType())
            .isEqualTo(new ArrowType.Int(64, true));
        ((BigIntVector) parameters.getVector(0)).setSafe(0, 42);
        parameters.setRowCount(1);
        prepared.setParameters(parameters);
        assertThat(prepared.executeUpdate()).isEqualTo(1);
      }
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.p"), "id")).containsExactly(42L);
    }
  }

  @Test
  void bulkIngestCreatesAppendsAndReplaces(BufferAllocator allocator) throws Exception {
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build();
        FlightSqlClient sql = new FlightSqlClient(flight)) {
      assertThat(ingest(sql, allocator, 3, TableExistsOption.TABLE_EXISTS_OPTION_FAIL))
          .isEqualTo(3);
      assertThat(ingest(sql, allocator, 2, TableExistsOption.TABLE_EXISTS_OPTION_APPEND))
          .isEqualTo(2);
      assertThat(longs(flight, sql.execute("SELECT count(*) AS n FROM ns.ingested"), "n"))
          .containsExactly(5L);
      assertThat(ingest(sql, allocator, 1, TableExistsOption.TABLE_EXISTS_OPTION_REPLACE))
          .isEqualTo(1);
      assertThat(longs(flight, sql.execute("SELECT id FROM ns.ingested"), "id"))
          .containsExactly(0L);
      assertThatThrownBy(
              () -> ingest(sql, allocator, 1, TableExistsOption.TABLE_EXISTS_OPTION_FAIL))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.ALREADY_EXISTS))
          .hasMessageContaining("Table ns.ingested already exists");
    }
  }

  private static long ingest(
      FlightSqlClient sql, BufferAllocator allocator, int rows, TableExistsOption ifExists) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(IDS, allocator)) {
      BigIntVector ids = (BigIntVector) root.getVector(0);
      for (int i = 0; i < rows; i++) {
        ids.setSafe(i, i);
      }
      root.setRowCount(rows);
      TableDefinitionOptions options =
          TableDefinitionOptions.newBuilder()
              .setIfNotExist(TableNotExistOption.TABLE_NOT_EXIST_OPTION_CREATE)
              .setIfExists(ifExists)
              .build();
      return sql.executeIngest(
          root,
          new FlightSqlClient.ExecuteIngestOptions("ingested", options, null, "ns", Map.of()));
    }
  }
}
