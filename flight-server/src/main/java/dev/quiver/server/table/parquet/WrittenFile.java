package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import org.apache.iceberg.Metrics;

/**
 * One Parquet file written by {@link DuckDbParquetWriter}, with what Iceberg needs to register it.
 *
 * @param path the file's absolute path
 * @param rows the number of rows in the file, at least 1
 * @param bytes the file's size in bytes
 * @param metrics the Iceberg column metrics: value and null counts for non-repeated primitive
 *     columns, lower and upper bounds only where DuckDB reported exact values Quiver can encode
 */
public record WrittenFile(Path path, long rows, long bytes, Metrics metrics) {
  public WrittenFile {
    requireNonNull(path, "path is null");
    requireNonNull(metrics, "metrics is null");
    if (rows < 1) {
      throw new IllegalArgumentException("rows must be positive, got " + rows);
    }
    if (bytes < 1) {
      throw new IllegalArgumentException("bytes must be positive, got " + bytes);
    }
  }
}
