package dev.quiver.server.flight;

import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.filter.FilterTranslator;
import dev.quiver.server.table.filter.ScanFilter;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;

/**
 * A scan resolved against the table: the pinned snapshot, the files that may match, the output
 * schema and the filter in both its forms (Substrait for the Parquet scan, Iceberg for pruning).
 *
 * @param table the table as loaded
 * @param snapshotId the pinned snapshot, 0 for a table with no data
 * @param files the data files to read, in put order, with their deletes (for an incremental read,
 *     those appended in its range)
 * @param schema the output schema (the projection of the table's Arrow schema)
 * @param filter the filter, or null
 */
record ScanPlan(
    QuiverTable table, long snapshotId, List<ScanFile> files, Schema schema, ScanFilter filter) {

  static ScanPlan plan(IcebergTableStore store, ScanRequest request) {
    QuiverTable table = store.load(request.table());
    Schema schema = request.project(table.arrowSchema());
    ScanFilter filter =
        request.filter().isPresent()
            ? FilterTranslator.translate(
                request.table(), request.filter().get(), table.arrowSchema())
            : null;
    long snapshotId = request.snapshotId().orElseGet(() -> table.currentSnapshotId().orElse(0L));
    Expression rows = filter == null ? Expressions.alwaysTrue() : filter.iceberg();
    List<ScanFile> files;
    if (request.fromSnapshotId().isPresent()) {
      long from = request.fromSnapshotId().get();
      if (snapshotId == 0) {
        table.snapshot(from); // SNAPSHOT_NOT_FOUND: an empty table has no snapshots
      }
      files = table.appendedFiles(from, snapshotId, rows, request.allowNonAppend());
    } else {
      files = snapshotId == 0 ? List.of() : table.files(snapshotId, rows);
    }
    return new ScanPlan(table, snapshotId, files, schema, filter);
  }

  /** The filter for arrow-dataset, or null. */
  ByteBuffer substraitFilter() {
    return filter == null ? null : filter.substrait();
  }

  long totalBytes() {
    long total = 0;
    for (ScanFile f : files) {
      total += f.data().fileSizeInBytes();
    }
    return total;
  }

  /** The rows of the files; -1 (unknown) when deletes apply, whose count only a read tells. */
  long totalRecords() {
    long total = 0;
    for (ScanFile f : files) {
      if (f.hasDeletes()) {
        return -1;
      }
      total += f.data().recordCount();
    }
    return total;
  }
}
