package dev.quiver.server.table;

import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;

/**
 * A SQL engine over an empty store in a temporary folder, for scans of files written by tests. Its
 * imports go under a child of the given allocator: scans must allocate under the same root, as a
 * server's calls do, because batches are transferred from the imports to the scan's allocator.
 */
public final class TestSqlEngine implements AutoCloseable {
  private final DuckDbParquetWriter writer;
  private final IcebergTableStore store;
  private final SqlEngine engine;

  public TestSqlEngine(Path dataDir, BufferAllocator root) throws IOException {
    Path spill = Files.createDirectories(dataDir.resolve("tmp"));
    writer = new DuckDbParquetWriter(256L * 1024 * 1024, spill);
    store = IcebergTableStore.open(dataDir.resolve("store"), writer, ParquetWriteOptions.DEFAULTS);
    engine =
        SqlEngine.open(
            store,
            new SqlEngine.Settings(
                256L * 1024 * 1024, 2, 4, 16, Duration.ofSeconds(30), spill, List.of(dataDir)),
            root.newChildAllocator("SQL (C Data import)", 0, Long.MAX_VALUE));
  }

  public SqlEngine engine() {
    return engine;
  }

  /** The Parquet files under {@code dir}, sorted by name. */
  public static List<Path> parquetFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList();
    }
  }

  @Override
  public void close() throws Exception {
    engine.close();
    store.close();
    writer.close();
  }
}
