package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

/**
 * The {@code storage.compression}, {@code storage.compression-level}, {@code
 * storage.row-group-rows} and {@code storage.target-file-size} part of {@link ServerConfig}: how
 * puts, SQL writes and compaction write Parquet.
 *
 * @param compression Parquet compression codec
 * @param compressionLevel codec level; 0 means the default (zstd: level 1)
 * @param rowGroupRows rows per Parquet row group
 * @param targetFileBytes a put rolls to a new data file past this size
 */
public record WriteSettings(
    String compression, int compressionLevel, long rowGroupRows, long targetFileBytes) {
  public WriteSettings {
    requireNonNull(compression, "compression is null");
  }
}
