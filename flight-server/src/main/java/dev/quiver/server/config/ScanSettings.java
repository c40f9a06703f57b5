package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

/**
 * The {@code scan.*} part of {@link ServerConfig}: how a DoGet decodes Parquet and sizes its
 * batches.
 *
 * @param batchRows rows per record batch a scan sends
 * @param minBatchRows the fewest rows per batch a scan is cut down to under memory pressure (never
 *     more than {@code batchRows})
 * @param engine what decodes a DoGet's Parquet: duckdb or arrow-dataset
 */
public record ScanSettings(int batchRows, int minBatchRows, ScanEngine engine) {
  public ScanSettings {
    requireNonNull(engine, "engine is null");
    minBatchRows = Math.min(minBatchRows, batchRows);
  }
}
