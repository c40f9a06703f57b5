package dev.quiver.it;

import dev.quiver.server.table.LocalFileIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Reads a stopped (or killed) server's data folder the way the server does, through Iceberg's
 * JdbcCatalog on its SQLite file, to check what every snapshot references against the files on
 * disk. Use only while no server runs on the folder.
 */
final class CatalogInspector {
  private CatalogInspector() {}

  /**
   * What the folder holds: per table ({@code ns.name}), its snapshots oldest first with their row
   * counts; the data files any snapshot references that are missing; and the Parquet files on disk
   * that no snapshot references.
   */
  record Report(
      Map<String, List<Long>> snapshotRows,
      Set<String> missingFiles,
      Set<Path> unreferencedDataFiles) {}

  static Report inspect(Path dataDir) {
    Path root = dataDir.toAbsolutePath().normalize();
    Map<String, String> props = new HashMap<>();
    props.put(CatalogProperties.URI, "jdbc:sqlite:" + root.resolve("catalog.db"));
    props.put(
        CatalogProperties.WAREHOUSE_LOCATION, LocalFileIO.toLocation(root.resolve("warehouse")));
    props.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
    props.put("jdbc.schema-version", "V1");
    Map<String, List<Long>> snapshotRows = new HashMap<>();
    Set<String> missing = new TreeSet<>();
    Set<Path> referenced = new java.util.HashSet<>();
    try (JdbcCatalog catalog = new JdbcCatalog()) {
      catalog.initialize("quiver", props); // the server's catalog name: rows are keyed by it
      for (Namespace ns : catalog.listNamespaces()) {
        for (TableIdentifier id : catalog.listTables(ns)) {
          Table table = catalog.loadTable(id);
          List<Long> rows = new ArrayList<>();
          for (Snapshot snapshot : table.snapshots()) {
            long total = 0;
            try (CloseableIterable<FileScanTask> tasks =
                table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
              for (FileScanTask task : tasks) {
                String location = task.file().location();
                Path path = LocalFileIO.toPath(location);
                referenced.add(path.toAbsolutePath().normalize());
                if (!Files.isRegularFile(path)
                    || Files.size(path) != task.file().fileSizeInBytes()) {
                  missing.add(id + ": " + location);
                }
                total += task.file().recordCount();
              }
            }
            rows.add(total);
          }
          snapshotRows.put(id.toString(), rows);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<Path> unreferenced = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root.resolve("warehouse"))) {
      files
          .filter(p -> p.toString().endsWith(".parquet"))
          .map(p -> p.toAbsolutePath().normalize())
          .filter(p -> !referenced.contains(p))
          .forEach(unreferenced::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Report(snapshotRows, missing, unreferenced);
  }
}
