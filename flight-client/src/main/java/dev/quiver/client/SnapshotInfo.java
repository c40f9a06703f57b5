package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.OptionalLong;

/**
 * One Iceberg snapshot of a table, as the {@value QuiverActions#LIST_SNAPSHOTS} action reports it.
 *
 * @param snapshotId the snapshot's id, usable as {@link ScanOptions#snapshotId()}
 * @param parentId the snapshot before it; empty for a table's first snapshot
 * @param timestamp when the snapshot was committed
 * @param operation Iceberg's operation name ({@code append}, {@code overwrite}, ...)
 * @param addedRecords rows the snapshot added
 * @param totalRecords rows in the table as of the snapshot
 * @param addedFiles data files the snapshot added
 * @param current whether the snapshot is the table's current one
 */
public record SnapshotInfo(
    long snapshotId,
    OptionalLong parentId,
    Instant timestamp,
    String operation,
    long addedRecords,
    long totalRecords,
    long addedFiles,
    boolean current) {
  public SnapshotInfo {
    requireNonNull(parentId, "parentId is null");
    requireNonNull(timestamp, "timestamp is null");
    requireNonNull(operation, "operation is null");
  }
}
