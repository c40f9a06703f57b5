package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.TableId;

/**
 * One share of a split query: which of {@code count} shares of the files of {@code table}'s
 * snapshot {@code snapshotId} the query reads ({@link dev.quiver.server.table.ScanShares}).
 *
 * @param table the one table the query scans
 * @param snapshotId the snapshot every share reads, 0 for a table with no data
 * @param index this share, from 0
 * @param count how many shares the query was split into
 */
public record TableShare(TableId table, long snapshotId, int index, int count) {
  public TableShare {
    requireNonNull(table, "table is null");
    if (snapshotId < 0 || count < 1 || index < 0 || index >= count) {
      throw new IllegalArgumentException(
          "Share " + index + " of " + count + " of snapshot " + snapshotId + " does not exist");
    }
  }
}
