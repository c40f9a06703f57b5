package dev.quiver.it;

import static dev.quiver.it.AllTypesTable.assertRows;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.ClientOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark 4.0.1 with Iceberg's runtime 1.10.0 and Quiver on the same table (PostgreSQL catalog, local
 * warehouse): Spark reads every common type Quiver writes exactly, sees its snapshots and travels
 * to the first; Quiver reads Spark's INSERT exactly. Through Quiver's Iceberg REST catalog too.
 * Only in the Maven profile {@code spark} (Spark's classpath is 315 MB): {@code mvn -Pspark ...}.
 *
 * <p>Spark runs in a JVM of its own (its Jackson and Netty differ from Quiver's), as {@code java
 * src/test/spark/SparkSql.java}; Spark 4.0 has no time type, so the table has no time64 column.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SparkIT {
  @RegisterExtension static final PostgresExtension POSTGRES = new PostgresExtension();

  private static final Schema SCHEMA = AllTypesTable.without("tod");
  private static final String COLUMNS =
      SCHEMA.getFields().stream().map(Field::getName).collect(Collectors.joining(", "));
  private static final Duration SPARK_TIMEOUT = Duration.ofMinutes(4);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path root;

  @Test
  void sparkReadsQuiversTableExactlyAndQuiverReadsSparksInsert(BufferAllocator allocator)
      throws Exception {
    String catalog = POSTGRES.newDatabase();
    Path warehouse = root.resolve("warehouse");
    TableId table = TableId.of("spark_it", "all_types");
    try (QuiverServerProcess quiver =
            QuiverServerProcess.start(
                root.resolve("quiver"),
                "--catalog.uri",
                catalog,
                "--catalog.user",
                POSTGRES.user(),
                "--storage.warehouse",
                warehouse.toString());
        QuiverClient client =
            QuiverClient.connect(
                quiver.location(), ClientOptions.builder().parentAllocator(allocator).build())) {
      AllTypesTable.put(client, allocator, table, SCHEMA, 0, 1000);
      AllTypesTable.put(client, allocator, table, SCHEMA, 1000, 500);
      long first = client.snapshots(table).get(0).snapshotId();
      String spark = "quiver.spark_it.all_types";

      List<List<List<Object>>> results =
          spark(
              catalog,
              warehouse,
              "SELECT " + COLUMNS + " FROM " + spark,
              "SELECT snapshot_id FROM " + spark + ".snapshots ORDER BY committed_at",
              "SELECT " + COLUMNS + " FROM " + spark + " VERSION AS OF " + first,
              insertOfTwentyRows(spark));

      assertRows("Spark's SELECT", SCHEMA, results.get(0), AllTypesTable.rows(0, 1500, SCHEMA));
      List<Long> snapshots =
          client.snapshots(table).stream().map(SnapshotInfo::snapshotId).toList();
      assertThat(snapshots).as("Quiver's two puts and Spark's insert").hasSize(3);
      assertThat(results.get(1))
          .as("Spark's snapshots metadata table")
          .isEqualTo(snapshots.subList(0, 2).stream().map(id -> List.<Object>of(id)).toList());
      assertRows(
          "Spark's VERSION AS OF the first snapshot",
          SCHEMA,
          results.get(2),
          AllTypesTable.rows(0, 1000, SCHEMA));
      List<List<Object>> expected = new ArrayList<>(AllTypesTable.rows(0, 1500, SCHEMA));
      expected.addAll(AllTypesTable.rows(100_000, 20, SCHEMA));
      assertRows(
          "Quiver's DoGet after Spark's INSERT",
          SCHEMA,
          AllTypesTable.scan(client, table),
          expected);
    }
  }

  @Test
  void sparkReadsAndInsertsThroughQuiversRestCatalog(BufferAllocator allocator) throws Exception {
    int restPort = TrinoServer.freePort();
    TableId table = TableId.of("spark_rest", "all_types");
    try (QuiverServerProcess quiver =
            QuiverServerProcess.start(
                root.resolve("quiver-rest"), "--catalog.rest-port", String.valueOf(restPort));
        QuiverClient client =
            QuiverClient.connect(
                quiver.location(), ClientOptions.builder().parentAllocator(allocator).build())) {
      AllTypesTable.put(client, allocator, table, SCHEMA, 0, 300);
      String spark = "quiver.spark_rest.all_types";

      List<List<List<Object>>> results =
          spark(
              "http://127.0.0.1:" + restPort,
              root,
              "SELECT " + COLUMNS + " FROM " + spark,
              insertOfTwentyRows(spark));

      assertRows(
          "Spark's SELECT through REST",
          SCHEMA,
          results.get(0),
          AllTypesTable.rows(0, 300, SCHEMA));
      assertThat(client.snapshots(table)).as("Quiver's put and Spark's insert").hasSize(2);
      List<List<Object>> expected = new ArrayList<>(AllTypesTable.rows(0, 300, SCHEMA));
      expected.addAll(AllTypesTable.rows(100_000, 20, SCHEMA));
      assertRows(
          "Quiver's DoGet after Spark's INSERT through REST",
          SCHEMA,
          AllTypesTable.scan(client, table),
          expected);
    }
  }

  /** Spark's INSERT of rows 100,000 to 100,019 into {@code table}. */
  private static String insertOfTwentyRows(String table) {
    return "INSERT INTO "
        + table
        + " ("
        + COLUMNS
        + ") VALUES "
        + LongStream.range(100_000, 100_020)
            .mapToObj(id -> AllTypesTable.sparkValues(id, SCHEMA))
            .collect(Collectors.joining(", "));
  }

  /**
   * Runs {@code statements} in one Spark session on {@code catalog} (a JDBC URL, or a REST
   * catalog's {@code http://} URI); returns each one's rows, canonical.
   */
  private List<List<List<Object>>> spark(String catalog, Path warehouse, String... statements)
      throws Exception {
    Path module = Path.of("").toAbsolutePath();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-XX:+IgnoreUnrecognizedVMOptions",
                "-Djdk.reflect.useDirectMethodHandle=false",
                "-Dio.netty.tryReflectionSetAccessible=true"));
    for (String open :
        List.of(
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "jdk.internal.ref",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar")) {
      command.add("--add-opens=java.base/" + open + "=ALL-UNNAMED");
    }
    Path log = QuiverServerProcess.logsDir().resolve("spark-" + System.nanoTime() + ".log");
    Files.createDirectories(log.getParent());
    // Spark's own defaults log every stage at INFO to the console.
    Path log4j =
        Files.writeString(
            log.resolveSibling(log.getFileName() + ".log4j2.properties"),
            String.join(
                "\n",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.console.ref = console",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d %p %c{1}: %m%n",
                ""));
    command.add("-Dlog4j2.configurationFile=" + log4j.toUri());
    command.addAll(
        List.of(
            "-cp",
            classpath(module),
            module.resolve("src/test/spark/SparkSql.java").toString(),
            catalog,
            POSTGRES.user(),
            warehouse.toUri().toString()));
    command.addAll(List.of(statements));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    // Spark binds 127.0.0.1 only (the host name may resolve to another interface).
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process process = builder.start();
    if (!process.waitFor(SPARK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError("Spark did not finish within " + SPARK_TIMEOUT + "; log: " + log);
    }
    List<String> lines = Files.readAllLines(log);
    assertThat(process.exitValue())
        .as("Spark's exit code; its output:%n%s", String.join("\n", tail(lines)))
        .isZero();
    List<List<List<Object>>> results = new ArrayList<>();
    List<List<Object>> current = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("ROW ")) {
        List<Object> row = new ArrayList<>();
        for (JsonNode value : JSON.readTree(line.substring(4))) {
          row.add(AllTypesTable.fromSpark(value.isNull() ? null : value.asText()));
        }
        current.add(row);
      } else if (line.equals("DONE")) {
        results.add(current);
        current = new ArrayList<>();
      }
    }
    assertThat(results).as("a result for every statement").hasSize(statements.length);
    return results;
  }

  private static List<String> tail(List<String> lines) {
    return lines.subList(Math.max(0, lines.size() - 60), lines.size());
  }

  /** Spark's classpath, resolved once with Maven from src/test/spark/pom.xml. */
  private static synchronized String classpath(Path module) throws Exception {
    Path file = module.resolve("target/spark/classpath.txt");
    if (!Files.exists(file)) {
      Files.createDirectories(file.getParent());
      String home = System.getProperty("quiver.maven.home", "");
      Process resolve =
          new ProcessBuilder(
                  home.isEmpty() ? "mvn" : home + "/bin/mvn",
                  "-B",
                  "-q",
                  "-f",
                  module.resolve("src/test/spark/pom.xml").toString(),
                  "-Dspark.version=" + System.getProperty("quiver.spark.version"),
                  "-Diceberg-spark.version=" + System.getProperty("quiver.iceberg-spark.version"),
                  "-Dpostgresql.version=" + System.getProperty("quiver.postgresql.version"),
                  "dependency:build-classpath",
                  "-Dmdep.outputFile=" + file)
              .redirectErrorStream(true)
              .redirectOutput(file.resolveSibling("resolve.log").toFile())
              .start();
      if (!resolve.waitFor(10, TimeUnit.MINUTES) || resolve.exitValue() != 0) {
        resolve.destroyForcibly();
        throw new IllegalStateException(
            "Cannot resolve Spark's classpath: "
                + Files.readString(file.resolveSibling("resolve.log")));
      }
    }
    return Files.readString(file).strip();
  }
}
