package dev.quiver.server.maintenance;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.TableId;

/**
 * What one compaction of a table did.
 *
 * @param table the table
 * @param filesBefore the data files of the snapshot it read
 * @param filesRewritten the small files replaced (0 when there was nothing to do)
 * @param filesAdded the files written in their place
 * @param bytesRewritten the bytes of the replaced files
 * @param bytesAdded the bytes of the new files
 * @param rows the rows moved
 */
public record CompactionReport(
    TableId table,
    int filesBefore,
    int filesRewritten,
    int filesAdded,
    long bytesRewritten,
    long bytesAdded,
    long rows) {
  public CompactionReport {
    requireNonNull(table, "table is null");
  }
}
