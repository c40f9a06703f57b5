package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampMilliTZVector;
import org.apache.arrow.vector.TimeStampNanoTZVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * SQL through the real Flight SQL JDBC driver (the one DBeaver and JDBC programs load) against the
 * real server: metadata browsing, statements, prepared statements with parameters, joins and
 * aggregates, exact timestamps and decimals, and clear errors that leave the connection usable.
 */
@ExtendWith({QuiverServerExtension.class, ArrowAllocatorExtension.class})
class SqlJdbcIT {
  private static final long MICROS = 1_700_000_000_123_456L;
  private static final long MILLIS = 1_700_000_000_123L;
  private static final long NANOS = 1_700_000_000_123_456_789L;

  private final QuiverServerProcess server;
  private final String ns = "jdbc_" + UUID.randomUUID().toString().substring(0, 8);

  SqlJdbcIT(QuiverServerProcess server) {
    this.server = server;
  }

  static Connection connect(QuiverServerProcess server, String extra) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:arrow-flight-sql://127.0.0.1:" + server.port() + "/?useEncryption=false" + extra);
  }

  private void putRows(BufferAllocator allocator, String table, long first, long count) {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path(ns, table), first, count);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void databaseMetaDataBrowsesTheTables(BufferAllocator allocator) throws Exception {
    putRows(allocator, "orders", 0, 10);
    try (Connection connection = connect(server, "")) {
      DatabaseMetaData meta = connection.getMetaData();

      assertThat(meta.getDatabaseProductName()).isEqualTo("Quiver");
      assertThat(column(meta.getCatalogs(), "TABLE_CAT")).containsExactly("quiver");
      assertThat(column(meta.getSchemas("quiver", ns), "TABLE_SCHEM")).containsExactly(ns);
      assertThat(column(meta.getTables("quiver", ns, "%", null), "TABLE_NAME"))
          .containsExactly("orders");
      assertThat(column(meta.getTables("quiver", ns, "%", new String[] {"VIEW"}), "TABLE_NAME"))
          .isEmpty();
      List<String> columns = new ArrayList<>();
      try (ResultSet rs = meta.getColumns("quiver", ns, "orders", "%")) {
        while (rs.next()) {
          columns.add(rs.getString("COLUMN_NAME") + " " + rs.getInt("DATA_TYPE"));
        }
      }
      assertThat(columns)
          .containsExactly("id " + Types.BIGINT, "name " + Types.VARCHAR, "amount " + Types.DOUBLE);
      // The 18.3 driver does not implement getTypeInfo (Avatica's empty default); the server's
      // GetXdbcTypeInfo is checked through Arrow's FlightSqlClient in flight-server's tests.
      assertThat(column(meta.getTypeInfo(), "TYPE_NAME")).isEmpty();
      assertThat(column(meta.getPrimaryKeys("quiver", ns, "orders"), "COLUMN_NAME")).isEmpty();
      assertThat(column(meta.getImportedKeys("quiver", ns, "orders"), "PKCOLUMN_NAME")).isEmpty();
      assertThat(column(meta.getExportedKeys("quiver", ns, "orders"), "FKCOLUMN_NAME")).isEmpty();
      assertThat(column(meta.getTableTypes(), "TABLE_TYPE")).containsExactly("TABLE");
    }
  }

  @Test
  void statementAndPreparedStatementQueries(BufferAllocator allocator) throws Exception {
    putRows(allocator, "t", 0, 1000);
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement()) {
      try (ResultSet rs =
          statement.executeQuery("SELECT count(*) AS n, sum(id) AS total FROM " + ns + ".t")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong("n")).isEqualTo(1000);
        assertThat(rs.getLong("total")).isEqualTo(999 * 1000 / 2);
      }
      try (PreparedStatement prepared =
          connection.prepareStatement(
              "SELECT id, name FROM " + ns + ".t WHERE id BETWEEN ? AND ? ORDER BY id")) {
        prepared.setLong(1, 10);
        prepared.setLong(2, 12);
        assertThat(rows(prepared.executeQuery()))
            .containsExactly(
                List.of(10L, "name-10"), List.of(11L, "name-11"), List.of(12L, "name-12"));
        prepared.setLong(1, 998);
        prepared.setLong(2, 5000);
        assertThat(rows(prepared.executeQuery()))
            .containsExactly(List.of(998L, "name-998"), List.of(999L, "name-999"));
      }
    }
  }

  @Test
  void joinsAndAggregatesAcrossTwoTables(BufferAllocator allocator) throws Exception {
    putRows(allocator, "left_side", 0, 1000);
    putRows(allocator, "right_side", 500, 1000);
    // catalog= makes the driver send SetSessionOptions.
    Connection connection = connect(server, "&catalog=quiver");
    try (Statement statement = connection.createStatement()) {
      String sql =
          "SELECT a.id % 3 AS k, count(*) AS n FROM "
              + ns
              + ".left_side a JOIN quiver."
              + ns
              + ".right_side b ON a.id = b.id GROUP BY k ORDER BY k";
      assertThat(rows(statement.executeQuery(sql)))
          .containsExactly(List.of(0L, 167L), List.of(1L, 166L), List.of(2L, 167L));
    } finally {
      closeWithCatalog(connection);
    }
  }

  /**
   * Closes a connection opened with catalog=. The 18.3 driver closes its client twice and the
   * second CloseSession fails on the already shut channel (apache/arrow-java#66, fixed upstream
   * later), a client-side error with no server call behind it; any other failure still fails.
   */
  static void closeWithCatalog(Connection connection) throws SQLException {
    try {
      connection.close();
    } catch (SQLException e) {
      if (!String.valueOf(e.getMessage()).contains("Channel shutdown invoked")) {
        throw e;
      }
    }
  }

  @Test
  void errorsAreClearAndTheConnectionStaysUsable() throws Exception {
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(() -> statement.executeQuery("SELEC 1"))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("INVALID_ARGUMENT")
          .hasMessageContaining("syntax error at or near \"SELEC\"");
      assertThatThrownBy(() -> statement.executeQuery("SELECT * FROM nope.missing"))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("NOT_FOUND")
          .hasMessageContaining("Table nope.missing does not exist");
      try (ResultSet rs = statement.executeQuery("SELECT 41 + 1 AS answer")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt("answer")).isEqualTo(42);
      }
    }
  }

  @Test
  void zonedTimestampsAndDecimalsRoundTripExactly(BufferAllocator allocator) throws Exception {
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("ts_us", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC")),
                Field.nullable(
                    "ts_ms", new ArrowType.Timestamp(TimeUnit.MILLISECOND, "Europe/Oslo")),
                Field.nullable("ts_ns", new ArrowType.Timestamp(TimeUnit.NANOSECOND, "UTC")),
                Field.nullable("amount", new ArrowType.Decimal(18, 2, 128))));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      root.allocateNew();
      ((BigIntVector) root.getVector("id")).setSafe(0, 1);
      ((TimeStampMicroTZVector) root.getVector("ts_us")).setSafe(0, MICROS);
      ((TimeStampMilliTZVector) root.getVector("ts_ms")).setSafe(0, MILLIS);
      ((TimeStampNanoTZVector) root.getVector("ts_ns")).setSafe(0, NANOS);
      ((DecimalVector) root.getVector("amount")).setSafe(0, new BigDecimal("12345.67"));
      root.setRowCount(1);
      FlightTables.put(client, FlightDescriptor.path(ns, "times"), root, s -> s.putNext());

      // Flight SQL (SQL text as a command) keeps the table's units; zoned columns name UTC (the
      // same instants), which JDBC driver 18.3 reads right in a UTC JVM (see the next test).
      FlightInfo info =
          client.getInfo(
              FlightDescriptor.command(
                  ("SELECT ts_us, ts_ms, ts_ns, amount FROM " + ns + ".times")
                      .getBytes(StandardCharsets.UTF_8)));
      try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
        assertThat(stream.next()).isTrue();
        VectorSchemaRoot result = stream.getRoot();
        assertThat(result.getSchema().getFields())
            .extracting(Field::getType)
            .containsExactly(
                new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"),
                new ArrowType.Timestamp(TimeUnit.MILLISECOND, "UTC"),
                new ArrowType.Timestamp(TimeUnit.NANOSECOND, "UTC"),
                new ArrowType.Decimal(18, 2, 128));
        assertThat(((TimeStampMicroTZVector) result.getVector(0)).get(0)).isEqualTo(MICROS);
        assertThat(((TimeStampMilliTZVector) result.getVector(1)).get(0)).isEqualTo(MILLIS);
        assertThat(((TimeStampNanoTZVector) result.getVector(2)).get(0)).isEqualTo(NANOS);
      }
    }
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement();
        ResultSet rs =
            statement.executeQuery("SELECT ts_us, ts_ns, amount FROM " + ns + ".times")) {
      ResultSetMetaData meta = rs.getMetaData();
      for (int i = 1; i <= 2; i++) {
        // The 18.3 driver reports zoned timestamps as TIMESTAMP; the values below are instants.
        assertThat(meta.getColumnType(i)).isIn(Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE);
      }
      assertThat(meta.getColumnType(3)).isEqualTo(Types.DECIMAL);
      assertThat(meta.getPrecision(3)).isEqualTo(18);
      assertThat(meta.getScale(3)).isEqualTo(2);
      assertThat(rs.next()).isTrue();
      assertThat(rs.getTimestamp(1).toInstant())
          .isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 123_456_000));
      assertThat(rs.getTimestamp(2).toInstant())
          .isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
      assertThat(rs.getBigDecimal(3)).isEqualTo(new BigDecimal("12345.67"));
    }
  }

  @Test
  void zonedTimestampsReadAsTheRightInstantThroughEveryAccessor(BufferAllocator allocator)
      throws Exception {
    // As pandas writes a zoned column: microseconds in Europe/Oslo (2023-11-14T22:13:20.123456Z,
    // 23:13:20.123456 in Oslo).
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable(
                    "oslo", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "Europe/Oslo"))));
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      root.allocateNew();
      ((BigIntVector) root.getVector("id")).setSafe(0, 1);
      ((TimeStampMicroTZVector) root.getVector("oslo")).setSafe(0, MICROS);
      root.setRowCount(1);
      FlightTables.put(client, FlightDescriptor.path(ns, "oslo"), root, s -> s.putNext());
    }
    Instant instant = Instant.ofEpochSecond(1_700_000_000L, 123_456_000);
    java.util.TimeZone jvmZone = java.util.TimeZone.getDefault();
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("UTC"));
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT oslo FROM " + ns + ".oslo")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getTimestamp(1).toInstant()).isEqualTo(instant);
      assertThat(
              rs.getTimestamp(
                      1, java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("UTC")))
                  .toInstant())
          .isEqualTo(instant);
      assertThat(rs.getString(1)).startsWith("2023-11-14 22:13:20.123456");
      // Driver 18.3 answers getObject on any zoned timestamp (UTC included) so; 19.0 implements it.
      assertThatThrownBy(() -> rs.getObject(1))
          .isInstanceOf(RuntimeException.class)
          .hasMessage("not implemented");
    } finally {
      java.util.TimeZone.setDefault(jvmZone);
    }
    // In a JVM running in another zone the 18.3 driver is off: in
    // Europe/Oslo (UTC+1 in November) getTimestamp is two hours early (measured; README: run JDBC
    // clients in UTC).
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Europe/Oslo"));
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT oslo FROM " + ns + ".oslo")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getTimestamp(1).toInstant()).isEqualTo(instant.minus(Duration.ofHours(2)));
    } finally {
      java.util.TimeZone.setDefault(jvmZone);
    }
  }

  @Test
  void ddlTakesTheStandardTypeNamesToolsWrite() throws Exception {
    String table = ns + ".standard";
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement()) {
      statement.executeUpdate(
          "CREATE TABLE "
              + table
              + " (a INT, b CLOB, c VARCHAR(20), d CHARACTER VARYING(5), e DOUBLE PRECISION,"
              + " f NUMERIC(10,2), g TIMESTAMP WITH TIME ZONE, h BINARY LARGE OBJECT,"
              + " i CHARACTER LARGE OBJECT, j VARBINARY(16), k SMALLINT, l REAL, m BOOLEAN,"
              + " n DATE, o TIMESTAMP, p BIGINT, q TEXT)");
      statement.executeUpdate(
          "INSERT INTO "
              + table
              + " VALUES (1, 'clob', 'vc', 'five!', 0.5, 12.34, TIMESTAMPTZ '2024-01-02 03:04:05Z',"
              + " '\\x01'::BLOB, 'big', '\\x02'::BLOB, 2, 1.5, true, DATE '2024-01-02',"
              + " TIMESTAMP '2024-01-02 03:04:05', 3, 'text')");
      try (ResultSet rs = statement.executeQuery("SELECT * FROM " + table)) {
        ResultSetMetaData meta = rs.getMetaData();
        List<Integer> types = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          types.add(meta.getColumnType(i));
        }
        assertThat(types)
            .containsExactly(
                Types.INTEGER,
                Types.VARCHAR,
                Types.VARCHAR,
                Types.VARCHAR,
                Types.DOUBLE,
                Types.DECIMAL,
                Types.TIMESTAMP_WITH_TIMEZONE,
                Types.VARBINARY,
                Types.VARCHAR,
                Types.VARBINARY,
                Types.SMALLINT,
                Types.FLOAT,
                Types.BOOLEAN,
                Types.DATE,
                Types.TIMESTAMP,
                Types.BIGINT,
                Types.VARCHAR);
        assertThat(meta.getPrecision(6)).isEqualTo(10);
        assertThat(meta.getScale(6)).isEqualTo(2);
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt("a")).isEqualTo(1);
        assertThat(rs.getString("b")).isEqualTo("clob");
        assertThat(rs.getBigDecimal("f")).isEqualTo(new BigDecimal("12.34"));
        assertThat(rs.getBytes("h")).containsExactly(1);
        assertThat(rs.getString("i")).isEqualTo("big");
      }
    }
    // Each name became the Arrow type the table stores.
    try (Connection connection = connect(server, "");
        ResultSet columns = connection.getMetaData().getColumns(null, ns, "standard", null)) {
      List<String> typeNames = new ArrayList<>();
      while (columns.next()) {
        typeNames.add(columns.getString("TYPE_NAME"));
      }
      assertThat(typeNames).hasSize(17);
    }
  }

  @Test
  void executeUpdateCreatesInsertsAndDropsTables() throws Exception {
    String table = ns + ".made";
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement()) {
      assertThat(
              statement.executeUpdate(
                  "CREATE TABLE " + table + " (id BIGINT, label VARCHAR, amount DECIMAL(10,2))"))
          .isZero();
      assertThat(
              statement.executeUpdate(
                  "INSERT INTO " + table + " VALUES (1, 'one', 1.50), (2, 'two', NULL)"))
          .isEqualTo(2);
      assertThat(
              statement.executeUpdate(
                  "INSERT INTO " + table + " SELECT id + 10, label, amount FROM " + table))
          .isEqualTo(2);
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?)")) {
        insert.setLong(1, 100);
        insert.setString(2, "hundred");
        insert.setBigDecimal(3, new BigDecimal("100.25"));
        assertThat(insert.executeUpdate()).isEqualTo(1);
      }
      assertThat(
              rows(
                  statement.executeQuery(
                      "SELECT id, label, amount FROM " + table + " ORDER BY id")))
          .containsExactly(
              List.of(1L, "one", new BigDecimal("1.50")),
              java.util.Arrays.asList(2L, "two", null),
              List.of(11L, "one", new BigDecimal("1.50")),
              java.util.Arrays.asList(12L, "two", null),
              List.of(100L, "hundred", new BigDecimal("100.25")));
      assertThat(
              statement.executeUpdate(
                  "CREATE TABLE " + ns + ".copied AS SELECT * FROM " + table + " WHERE id > 10"))
          .isEqualTo(3);
      assertThat(statement.executeUpdate("DROP TABLE " + ns + ".copied")).isZero();
      assertThatThrownBy(() -> statement.executeQuery("SELECT * FROM " + ns + ".copied"))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("NOT_FOUND")
          .hasMessageContaining(ns + ".copied");
      assertThat(
              statement.executeUpdate(
                  "UPDATE "
                      + table
                      + " SET amount = amount * 2, label = upper(label) WHERE id > 10 AND amount"
                      + " IS NOT NULL"))
          .isEqualTo(2);
      try (PreparedStatement delete =
          connection.prepareStatement("DELETE FROM " + table + " WHERE id < ?")) {
        delete.setLong(1, 10);
        assertThat(delete.executeUpdate()).isEqualTo(2);
      }
      assertThat(
              rows(
                  statement.executeQuery(
                      "SELECT id, label, amount FROM " + table + " ORDER BY id")))
          .containsExactly(
              List.of(11L, "ONE", new BigDecimal("3.00")),
              java.util.Arrays.asList(12L, "two", null),
              List.of(100L, "HUNDRED", new BigDecimal("200.50")));
      assertThat(statement.executeUpdate("ALTER TABLE " + table + " ADD COLUMN x INT")).isZero();
      assertThat(
              rows(
                  statement.executeQuery(
                      "SELECT count(*)::BIGINT, count(x)::BIGINT FROM " + table)))
          .as("rows written before the column was added read null for it")
          .containsExactly(List.of(3L, 0L));
      assertThatThrownBy(() -> statement.executeUpdate("ALTER TABLE " + table + " RENAME TO v"))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("UNIMPLEMENTED")
          .hasMessageContaining("RENAME TO (renaming a table) is not supported");
    }
  }

  @Test
  void executeBatchOfAPreparedInsertIsOneSnapshot(BufferAllocator allocator) throws Exception {
    TableId table = TableId.of(ns, "batched");
    int rows = 5_000;
    try (Connection connection = connect(server, "");
        Statement statement = connection.createStatement();
        QuiverClient quiver = QuiverClient.connect(server.location())) {
      statement.executeUpdate(
          "CREATE TABLE " + table + " (id BIGINT, label VARCHAR, amount DECIMAL(10,2))");
      int before = quiver.snapshots(table).size();
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?)")) {
        for (int i = 0; i < rows; i++) {
          insert.setLong(1, i);
          insert.setString(2, "row-" + i);
          insert.setBigDecimal(3, BigDecimal.valueOf(i, 2));
          insert.addBatch();
        }
        // The 18.3 driver sends every added row in one DoPut and reports one count, the total.
        assertThat(insert.executeBatch()).containsExactly(rows);
      }
      List<SnapshotInfo> snapshots = quiver.snapshots(table);
      assertThat(snapshots).hasSize(before + 1);
      assertThat(snapshots.get(snapshots.size() - 1).addedRecords()).isEqualTo(rows);
      assertThat(
              rows(
                  statement.executeQuery(
                      "SELECT count(*) AS n, sum(id)::BIGINT AS ids, sum(amount) AS amounts,"
                          + " count(*) FILTER (WHERE label = 'row-' || id) AS labelled FROM "
                          + table)))
          .containsExactly(
              List.of(
                  (long) rows,
                  (long) rows * (rows - 1) / 2,
                  new BigDecimal("124975.00"),
                  (long) rows));
    }
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      JsonNode idle = FlightTables.awaitIdle(client, Duration.ofSeconds(30));
      assertThat(idle.get("allocated").asLong()).as("server memory once idle: %s", idle).isZero();
    }
  }

  static List<String> column(ResultSet rs, String name) throws SQLException {
    List<String> values = new ArrayList<>();
    try (rs) {
      while (rs.next()) {
        values.add(rs.getString(name));
      }
    }
    return values;
  }

  static List<List<Object>> rows(ResultSet rs) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (rs) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(SqlConformanceClient.plain(rs.getObject(i)));
        }
        rows.add(row);
      }
    }
    return rows;
  }
}
