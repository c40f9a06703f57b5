package dev.quiver.benchmarks;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.table.LocalFileIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;

/**
 * Latency of loadTable and of a one-file append commit through Quiver's Iceberg REST catalog
 * (Iceberg's RESTCatalog client over HTTP on loopback), against the same operations on the same
 * SQLite catalog in process (a JdbcCatalog of the server's catalog.db), with 1 and 8 concurrent
 * clients; p50 and p99 in milliseconds.
 *
 * <p>Each client commits to a table of its own, so the figures are the catalog path, not lost
 * races. Run: {@code java -cp <benchmarks class path> dev.quiver.benchmarks.RestCatalogLatency
 * [loads-per-client commits-per-client]}.
 */
public final class RestCatalogLatency {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()));

  private RestCatalogLatency() {}

  public static void main(String[] args) throws Exception {
    int loads = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int commits = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    Path dir = Files.createTempDirectory("rest-latency");
    Map<String, String> flags = new HashMap<>();
    flags.put("flight.port", "0");
    flags.put("catalog.rest-port", "0");
    flags.put("storage.data-dir", dir.toString());
    flags.put("maintenance.enabled", "false");
    flags.put("telemetry.enabled", "false");
    try (QuiverServer server = QuiverServer.start(ServerConfig.load(Map.of(), Map.of(), flags));
        RESTCatalog rest = new RESTCatalog();
        JdbcCatalog jdbc = new JdbcCatalog()) {
      rest.initialize(
          "quiver",
          Map.of(
              CatalogProperties.URI, server.restCatalogUri().orElseThrow(),
              CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName()));
      Path root = dir.toAbsolutePath().normalize();
      jdbc.initialize(
          "quiver",
          Map.of(
              CatalogProperties.URI,
              "jdbc:sqlite:" + root.resolve("catalog.db"),
              CatalogProperties.WAREHOUSE_LOCATION,
              LocalFileIO.toLocation(root.resolve("warehouse")),
              CatalogProperties.FILE_IO_IMPL,
              LocalFileIO.class.getName(),
              "jdbc.schema-version",
              "V1",
              "jdbc.busy_timeout",
              "30000"));
      rest.createNamespace(Namespace.of("bench"), new HashMap<>());
      for (int i = 0; i < 8; i++) {
        rest.createTable(TableIdentifier.of("bench", "t" + i), SCHEMA);
      }
      System.out.printf(
          Locale.ROOT,
          "%-8s %-7s %7s %6s %9s %9s%n",
          "op",
          "catalog",
          "clients",
          "calls",
          "p50 ms",
          "p99 ms");
      for (int clients : new int[] {1, 8}) {
        for (String op : List.of("load", "commit")) {
          int perClient = op.equals("load") ? loads : commits;
          int perRun = clients == 1 ? perClient : Math.max(1, perClient / 4);
          for (Map.Entry<String, Catalog> c :
              Map.of("rest", (Catalog) rest, "jdbc", jdbc).entrySet()) {
            // Warm-up: a tenth of the calls, unmeasured.
            run(c.getValue(), op, clients, Math.max(2, perRun / 10));
            double[] ms = run(c.getValue(), op, clients, perRun);
            System.out.printf(
                Locale.ROOT,
                "%-8s %-7s %7d %6d %9.2f %9.2f%n",
                op,
                c.getKey(),
                clients,
                ms.length,
                percentile(ms, 0.50),
                percentile(ms, 0.99));
          }
        }
      }
    }
  }

  /** Runs {@code calls} of {@code op} on each of {@code clients} threads; every latency, in ms. */
  private static double[] run(Catalog catalog, String op, int clients, int calls) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<double[]>> futures = new ArrayList<>();
      for (int t = 0; t < clients; t++) {
        TableIdentifier ident = TableIdentifier.of("bench", "t" + t);
        futures.add(
            pool.submit(
                () -> {
                  double[] ms = new double[calls];
                  Table table = catalog.loadTable(ident);
                  for (int i = 0; i < calls; i++) {
                    long start = System.nanoTime();
                    if (op.equals("load")) {
                      catalog.loadTable(ident);
                    } else {
                      table
                          .newAppend()
                          .appendFile(
                              DataFiles.builder(PartitionSpec.unpartitioned())
                                  .withPath(table.location() + "/data/f-" + System.nanoTime())
                                  .withFileSizeInBytes(1024)
                                  .withRecordCount(10)
                                  .withFormat(FileFormat.PARQUET)
                                  .build())
                          .commit();
                    }
                    ms[i] = (System.nanoTime() - start) / 1e6;
                  }
                  return ms;
                }));
      }
      List<Double> all = new ArrayList<>();
      for (Future<double[]> f : futures) {
        for (double v : f.get(10, TimeUnit.MINUTES)) {
          all.add(v);
        }
      }
      return all.stream().mapToDouble(Double::doubleValue).toArray();
    } finally {
      pool.shutdownNow();
    }
  }

  private static double percentile(double[] values, double p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }
}
