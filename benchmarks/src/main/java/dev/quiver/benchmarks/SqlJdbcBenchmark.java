package dev.quiver.benchmarks;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.arrow.util.AutoCloseables;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * SQL through the Flight SQL JDBC driver (what DBeaver and JDBC programs use) against a real,
 * in-process {@link QuiverServer} on loopback.
 *
 * <p>fetchAll reads every row and column of {@code SELECT * FROM bench.wide}, a table of {@code
 * rows} rows and 5 columns (3 x int64, float64, short string) made in setup with CREATE TABLE AS;
 * its rows/s counter is the JDBC fetch rate. firstRow is the latency from executeQuery to the first
 * row of a one-row query on a 100-row table (every query is a prepared statement round trip in this
 * driver: CreatePreparedStatement, GetFlightInfo, DoGet, ClosePreparedStatement). Client, server
 * and DuckDB share the JVM and the cores.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class SqlJdbcBenchmark {
  /** Rows of bench.wide. */
  @Param("10000000")
  public long rows;

  private Path dataDir;
  private QuiverServer server;
  private Connection connection;

  /** Starts the server in a temporary folder and creates the tables with SQL. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    try {
      dataDir = Files.createTempDirectory("quiver-sql-bench");
      server =
          QuiverServer.start(
              ServerConfig.load(
                  Map.of(),
                  Map.of(),
                  Map.of(
                      "flight.port", "0",
                      "storage.data-dir", dataDir.toString(),
                      "memory.total", "2GB")));
      connection =
          DriverManager.getConnection(
              "jdbc:arrow-flight-sql://127.0.0.1:" + server.port() + "/?useEncryption=false");
      try (Statement statement = connection.createStatement()) {
        statement.executeUpdate(
            "CREATE TABLE bench.wide AS SELECT i AS id, i * 2 AS twice, i % 1000 AS bucket,"
                + " i / 3.0 AS third, 'name-' || (i % 100) AS name FROM range("
                + rows
                + ") t(i)");
        statement.executeUpdate(
            "CREATE TABLE bench.small AS SELECT i AS id, 'row-' || i AS label FROM range(100) t(i)");
      }
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** Reads every row and column of bench.wide. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public long fetchAll(Throughput counters) throws SQLException {
    long count = 0;
    long check = 0;
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT * FROM bench.wide")) {
      while (rs.next()) {
        check += rs.getLong(1) + rs.getLong(2) + rs.getLong(3);
        check += (long) rs.getDouble(4) + rs.getString(5).length();
        count++;
      }
    }
    if (count != rows) {
      throw new IllegalStateException("Fetched " + count + " rows, expected " + rows);
    }
    counters.add(count, 0);
    return check;
  }

  /** Runs a one-row query and reads its row. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  public String firstRow() throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT label FROM bench.small WHERE id = 42")) {
      if (!rs.next()) {
        throw new IllegalStateException("No row 42");
      }
      return rs.getString(1);
    }
  }

  /** Closes the connection and the server and deletes the data folder. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    AutoCloseables.close(connection, server);
    if (dataDir != null) {
      try (Stream<Path> paths = Files.walk(dataDir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      } catch (IOException e) {
        throw new IOException("Cannot delete " + dataDir, e);
      }
    }
  }
}
