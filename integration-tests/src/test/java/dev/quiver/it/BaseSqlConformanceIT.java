package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.List;
import java.util.UUID;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Flight SQL behaviours each SQL client path shows against a real server, Trino
 * BaseConnectorTest style: a subclass connects one path and declares in {@link #hasBehavior} which
 * Flight SQL features it supports. A test of a feature the path lacks checks that the path refuses
 * it clearly, so nothing is silently skipped.
 */
@ExtendWith({QuiverServerExtension.class, ArrowAllocatorExtension.class})
abstract class BaseSqlConformanceIT {
  /** Flight SQL features beyond queries, prepared statements and table metadata. */
  enum Behavior {
    /** DDL and INSERT through CommandStatementUpdate / prepared updates. */
    UPDATES,
    /** CommandStatementIngest. */
    BULK_INGEST,
    /** GetXdbcTypeInfo reaches the caller. */
    TYPE_INFO,
    /** Results arrive as Arrow with the tables' exact types (zone, unit). */
    ARROW_RESULTS,
    /** SetSessionOptions with a schema. */
    SESSION_SCHEMA,
  }

  private final QuiverServerProcess server;
  private final String ns = "sqlconf_" + UUID.randomUUID().toString().substring(0, 8);

  BaseSqlConformanceIT(QuiverServerProcess server) {
    this.server = server;
  }

  protected abstract boolean hasBehavior(Behavior behavior);

  protected abstract SqlConformanceClient connect(
      QuiverServerProcess server, BufferAllocator allocator) throws Exception;

  private TableId put(BufferAllocator allocator, String name, long count) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path(ns, name), 0, count);
    }
    return TableId.of(ns, name);
  }

  @Test
  void queriesAndAggregates(BufferAllocator allocator) throws Exception {
    put(allocator, "q", 100);
    try (SqlConformanceClient client = connect(server, allocator)) {
      assertThat(client.query("SELECT count(*), sum(id)::BIGINT FROM " + ns + ".q"))
          .containsExactly(List.of(100L, 4950L));
      assertThat(
              client.query(
                  "SELECT id, name FROM quiver." + ns + ".q WHERE id IN (1, 7) ORDER BY id"))
          .containsExactly(List.of(1L, "name-1"), java.util.Arrays.asList(7L, null));
    }
  }

  @Test
  void preparedQueriesBindParameters(BufferAllocator allocator) throws Exception {
    put(allocator, "p", 100);
    try (SqlConformanceClient client = connect(server, allocator)) {
      assertThat(
              client.queryPrepared(
                  "SELECT id FROM " + ns + ".p WHERE id >= ? AND name <> ? ORDER BY id",
                  List.of(97L, "name-98")))
          .containsExactly(List.of(97L), List.of(99L));
    }
  }

  @Test
  void metadataListsCatalogAndTables(BufferAllocator allocator) throws Exception {
    put(allocator, "m", 1);
    try (SqlConformanceClient client = connect(server, allocator)) {
      assertThat(client.catalogs()).containsExactly("quiver");
      assertThat(client.tables(ns)).containsExactly(ns + ".m");
      if (hasBehavior(Behavior.TYPE_INFO)) {
        assertThat(client.typeNames()).contains("BIGINT", "VARCHAR", "TIMESTAMP WITH TIME ZONE");
      } else {
        assertUnsupported(client::typeNames);
      }
    }
  }

  @Test
  void unknownTablesAndBadSqlAreClearErrors(BufferAllocator allocator) throws Exception {
    try (SqlConformanceClient client = connect(server, allocator)) {
      assertThatThrownBy(() -> client.query("SELECT * FROM " + ns + ".nope"))
          .satisfies(e -> assertThat(client.status(e)).isEqualTo("NOT_FOUND"))
          .hasMessageContaining(ns + ".nope");
      assertThatThrownBy(() -> client.query("SELEC 1"))
          .satisfies(e -> assertThat(client.status(e)).isEqualTo("INVALID_ARGUMENT"))
          .hasMessageContaining("syntax error");
      assertThat(client.query("SELECT 1")).containsExactly(List.of(1L));
    }
  }

  @Test
  void updatesCommitThroughTheTableLayer(BufferAllocator allocator) throws Exception {
    try (SqlConformanceClient client = connect(server, allocator)) {
      String table = ns + ".u";
      if (!hasBehavior(Behavior.UPDATES)) {
        assertUnsupported(() -> client.update("CREATE TABLE " + table + " (id BIGINT)"));
        return;
      }
      assertThat(client.update("CREATE TABLE " + table + " (id BIGINT)")).isZero();
      assertThat(client.update("INSERT INTO " + table + " VALUES (1), (2)")).isEqualTo(2);
      assertThat(client.query("SELECT sum(id)::BIGINT FROM " + table)).containsExactly(List.of(3L));
      assertThat(client.update("UPDATE " + table + " SET id = 3 WHERE id = 1")).isEqualTo(1);
      assertThat(client.update("DELETE FROM " + table + " WHERE id = 2")).isEqualTo(1);
      assertThat(client.query("SELECT sum(id)::BIGINT FROM " + table)).containsExactly(List.of(3L));
      assertThat(client.update("ALTER TABLE " + table + " ADD COLUMN x INT")).isZero();
      assertThat(client.query("SELECT count(*)::BIGINT, count(x)::BIGINT FROM " + table))
          .as("the row written before the column was added reads null for it")
          .containsExactly(List.of(1L, 0L));
      assertThatThrownBy(() -> client.update("ALTER TABLE " + table + " RENAME TO v"))
          .satisfies(e -> assertThat(client.status(e)).isEqualTo("UNIMPLEMENTED"))
          .hasMessageContaining("RENAME TO (renaming a table) is not supported");
    }
  }

  @Test
  void bulkIngestUsesTheWritePath(BufferAllocator allocator) throws Exception {
    try (SqlConformanceClient client = connect(server, allocator)) {
      TableId table = TableId.of(ns, "ingested");
      if (!hasBehavior(Behavior.BULK_INGEST)) {
        assertUnsupported(() -> client.ingest(table, 0, 10));
        return;
      }
      assertThat(client.ingest(table, 0, 10)).isEqualTo(10);
      assertThat(client.ingest(table, 10, 5)).isEqualTo(5);
      assertThat(client.query("SELECT count(*) FROM " + table)).containsExactly(List.of(15L));
    }
  }

  @Test
  void resultsKeepTheTablesArrowTypes(BufferAllocator allocator) throws Exception {
    try (SqlConformanceClient client = connect(server, allocator)) {
      String sql =
          "SELECT TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS ts, 1.50::DECIMAL(9,2) AS d";
      if (!hasBehavior(Behavior.ARROW_RESULTS)) {
        assertUnsupported(() -> client.resultTypes(sql));
        return;
      }
      assertThat(client.resultTypes(sql))
          .containsExactly(
              new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"),
              new ArrowType.Decimal(9, 2, 128));
    }
  }

  @Test
  void sessionSchemaResolvesUnqualifiedNames(BufferAllocator allocator) throws Exception {
    put(allocator, "s", 3);
    try (SqlConformanceClient client = connect(server, allocator)) {
      if (!hasBehavior(Behavior.SESSION_SCHEMA)) {
        assertUnsupported(() -> client.useSchema(ns));
        return;
      }
      client.useSchema(ns);
      assertThat(client.query("SELECT count(*) FROM s")).containsExactly(List.of(3L));
    }
  }

  private static void assertUnsupported(ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("not supported");
  }
}
