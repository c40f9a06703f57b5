package dev.quiver.server.table;

import dev.quiver.client.TableId;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.ExpireSnapshots;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.HistoryEntry;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires a table's old snapshots with Iceberg's {@code expireSnapshots()} and deletes the files
 * only they reached.
 *
 * <p>A snapshot expires only once it has not been the table's current snapshot since {@code
 * olderThan} (Iceberg's own rule looks at when a snapshot was committed, which would let a snapshot
 * that was current a moment ago go with a long-running read still on its files). The caller holds
 * IcebergTableStore's commit lock for reading, so orphan removal never runs in between.
 */
final class SnapshotExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotExpiry.class);

  private SnapshotExpiry() {}

  static ExpiryReport expire(TableId id, Table table, Instant olderThan, int retainLast) {
    Set<Long> before = ids(table.snapshots());
    if (before.isEmpty()) {
      return new ExpiryReport(id, olderThan, retainLast, 0, 0, 0, 0);
    }
    AtomicLong files = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    table
        .expireSnapshots()
        .expireOlderThan(replacedBefore(table, olderThan))
        .retainLast(retainLast)
        .cleanupLevel(ExpireSnapshots.CleanupLevel.ALL)
        .deleteWith(
            location -> {
              if (!CommitLocations.isUnder(table.location(), location)) {
                // Named by the table's history but not under its location: not Quiver's to delete.
                LOG.warn("Kept {} of table {}: it is not under {}", location, id, table.location());
                return;
              }
              long size = delete(table.io(), location);
              if (size >= 0) {
                files.incrementAndGet();
                bytes.addAndGet(size);
              }
            })
        .commit();
    table.refresh();
    Set<Long> after = ids(table.snapshots());
    // Counted by id: a put that committed meanwhile adds a snapshot without expiring one.
    int expired = (int) before.stream().filter(s -> !after.contains(s)).count();
    if (expired > 0) {
      trimMetadataLog(table, files, bytes);
    }
    return new ExpiryReport(
        id, olderThan, retainLast, expired, after.size(), files.get(), bytes.get());
  }

  /**
   * Deletes the earlier metadata files, which still list the expired snapshots (each file lists
   * every snapshot of its time, so after a burst of puts they are large): one commit keeps a
   * metadata log of one file, and Iceberg deletes the rest (delete-after-commit); a second puts the
   * log's bound back. Quiver's readers hold loaded metadata, never an earlier file's path. Counts
   * the files that went into {@code files} and {@code bytes}.
   */
  private static void trimMetadataLog(Table table, AtomicLong files, AtomicLong bytes) {
    FileIO io = table.io();
    Map<String, Long> earlier = new HashMap<>();
    if (table instanceof HasTableOperations ops) {
      for (TableMetadata.MetadataLogEntry entry : ops.operations().current().previousFiles()) {
        try {
          earlier.put(entry.file(), io.newInputFile(entry.file()).getLength());
        } catch (NotFoundException gone) {
          // Already deleted: nothing to count.
        }
      }
    }
    table.updateProperties().set(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "1").commit();
    table
        .updateProperties()
        .set(
            TableProperties.METADATA_PREVIOUS_VERSIONS_MAX,
            Integer.toString(IcebergTableStore.PREVIOUS_METADATA_VERSIONS))
        .commit();
    earlier.forEach(
        (location, size) -> {
          if (!io.newInputFile(location).exists()) {
            files.incrementAndGet();
            bytes.addAndGet(size);
          }
        });
  }

  /**
   * The commit time of the snapshot that was current at {@code olderThan}: Iceberg expires the
   * snapshots committed strictly before it, so that one and every later one are kept.
   */
  static long replacedBefore(Table table, Instant olderThan) {
    long cutoff = olderThan.toEpochMilli();
    List<HistoryEntry> log = table.history();
    long currentAt = cutoff;
    for (HistoryEntry entry : log) {
      if (entry.timestampMillis() <= cutoff) {
        currentAt = entry.timestampMillis();
      }
    }
    return Math.min(cutoff, currentAt);
  }

  /** Deletes a file through the table's FileIO; its size, or -1 when it was already gone. */
  private static long delete(FileIO io, String location) {
    long size;
    try {
      size = io.newInputFile(location).getLength();
    } catch (NotFoundException gone) {
      return -1;
    }
    io.deleteFile(location);
    return size;
  }

  private static Set<Long> ids(Iterable<Snapshot> snapshots) {
    Set<Long> ids = new HashSet<>();
    snapshots.forEach(s -> ids.add(s.snapshotId()));
    return ids;
  }
}
