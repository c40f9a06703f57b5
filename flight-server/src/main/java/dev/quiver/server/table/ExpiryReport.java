package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.TableId;
import java.time.Instant;

/**
 * What {@link IcebergTableStore#expireSnapshots} did to one table.
 *
 * @param table the table
 * @param olderThan the instant asked for: snapshots replaced before it could expire
 * @param retainLast the most recent snapshots kept whatever their age
 * @param snapshotsExpired snapshots removed from the table's metadata
 * @param snapshotsKept snapshots the table has now
 * @param filesDeleted manifests, manifest lists and data files no kept snapshot reaches, deleted
 * @param bytesDeleted the bytes of those files
 */
public record ExpiryReport(
    TableId table,
    Instant olderThan,
    int retainLast,
    int snapshotsExpired,
    int snapshotsKept,
    long filesDeleted,
    long bytesDeleted) {
  public ExpiryReport {
    requireNonNull(table, "table is null");
    requireNonNull(olderThan, "olderThan is null");
  }
}
