package dev.quiver.benchmarks;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * A SQL DELETE of 1% of a table's rows through the Flight SQL JDBC driver, against a real,
 * in-process {@link QuiverServer}: copy-on-write, one commit. Each iteration makes the table anew
 * ({@code files} commits of {@code rows}/{@code files} rows of 5 columns: 3 x int64, float64, a
 * short string), then times one DELETE; the bytes of the Parquet files the DELETE wrote are printed
 * after each iteration ("rewritten: N bytes in M files").
 *
 * <p>scattered deletes every 100th row, so every file holds matches and is rewritten (copy-on-
 * write's worst case); clustered deletes the first 1% of ids, which sit in one file.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(1)
public class SqlDeleteBenchmark {
  /** Rows in the table. */
  @Param("10000000")
  public long rows;

  /** Data files (one commit each). */
  @Param("10")
  public int files;

  private Path dataDir;
  private QuiverServer server;
  private Connection connection;
  private Set<Path> before;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dataDir = Files.createTempDirectory("quiver-delete-bench");
    server =
        QuiverServer.start(
            ServerConfig.load(
                Map.of(),
                Map.of(),
                Map.of(
                    "flight.port", "0",
                    "storage.data-dir", dataDir.toString(),
                    "memory.total", "2GB",
                    "maintenance.enabled", "false")));
    connection =
        DriverManager.getConnection(
            "jdbc:arrow-flight-sql://127.0.0.1:" + server.port() + "/?useEncryption=false");
  }

  /** Makes bench.t anew: {@code files} INSERTs of consecutive ids. */
  @Setup(Level.Iteration)
  public void makeTable() throws Exception {
    try (Statement statement = connection.createStatement()) {
      statement.executeUpdate("DROP TABLE IF EXISTS bench.t");
      statement.executeUpdate(
          "CREATE TABLE bench.t (id BIGINT, twice BIGINT, bucket BIGINT, third DOUBLE,"
              + " name VARCHAR)");
      long perFile = rows / files;
      for (int f = 0; f < files; f++) {
        statement.executeUpdate(
            "INSERT INTO bench.t SELECT range, range * 2, range % 1000, range / 3,"
                + " 'name-' || (range % 100) FROM range("
                + f * perFile
                + ", "
                + (f + 1) * perFile
                + ")");
      }
    }
    before = parquetFiles();
  }

  @Benchmark
  public long scattered() throws Exception {
    try (Statement statement = connection.createStatement()) {
      return statement.executeUpdate("DELETE FROM bench.t WHERE id % 100 = 0");
    }
  }

  @Benchmark
  public long clustered() throws Exception {
    try (Statement statement = connection.createStatement()) {
      return statement.executeUpdate("DELETE FROM bench.t WHERE id < " + rows / 100);
    }
  }

  /** Prints the bytes of the files the DELETE wrote. */
  @TearDown(Level.Iteration)
  public void reportRewritten() throws IOException {
    Set<Path> written = parquetFiles();
    written.removeAll(before);
    long bytes = 0;
    for (Path file : written) {
      bytes += Files.size(file);
    }
    System.out.printf("rewritten: %d bytes in %d files%n", bytes, written.size());
  }

  private Set<Path> parquetFiles() throws IOException {
    try (Stream<Path> paths = Files.walk(dataDir.resolve("warehouse"))) {
      return new HashSet<>(paths.filter(p -> p.toString().endsWith(".parquet")).toList());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (connection != null) {
      connection.close();
    }
    if (server != null) {
      server.close();
    }
    if (dataDir != null) {
      try (Stream<Path> paths = Files.walk(dataDir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
