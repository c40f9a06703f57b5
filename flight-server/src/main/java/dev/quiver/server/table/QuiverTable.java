package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Binder;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * A loaded table: its id, the Iceberg table as of loading, and the exact Arrow schema clients put.
 *
 * <p>Immutable view: it sees the snapshot that was current when it was loaded (Iceberg tables are
 * not refreshed here), so a reader working from one QuiverTable never sees a later commit.
 *
 * @param id the table's name
 * @param table the Iceberg table
 * @param arrowSchema the schema of the table's rows as clients see them
 */
public record QuiverTable(TableId id, Table table, Schema arrowSchema) {
  private static final Pattern TRAILING_NUMBER = Pattern.compile("(\\d+)\\.parquet$");

  public QuiverTable {
    requireNonNull(id, "id is null");
    requireNonNull(table, "table is null");
    requireNonNull(arrowSchema, "arrowSchema is null");
  }

  /**
   * True once the table has had more than one schema (ALTER TABLE, or another engine's schema
   * update): from then on its files' columns must be found by Parquet field id, not by name.
   */
  public boolean schemaEvolved() {
    return table.schemas().size() > 1;
  }

  /** The current snapshot's id, or empty for a table that has no data yet. */
  public Optional<Long> currentSnapshotId() {
    Snapshot current = table.currentSnapshot();
    return current == null ? Optional.empty() : Optional.of(current.snapshotId());
  }

  /** The snapshot with this id; SNAPSHOT_NOT_FOUND if the table never had it or it expired. */
  public Snapshot snapshot(long snapshotId) {
    Snapshot snapshot = table.snapshot(snapshotId);
    if (snapshot == null) {
      throw new QuiverException(
          QuiverErrorCode.SNAPSHOT_NOT_FOUND,
          "Table %s has no snapshot %d: it never existed or has expired (list-snapshots shows the"
              + " snapshots kept)",
          id,
          snapshotId);
    }
    return snapshot;
  }

  /**
   * The data files of a snapshot that may hold rows matching {@code filter}, in the order their
   * rows were put (older commits first, and within a commit in the order they were written), each
   * with the delete files that apply to it. UNSUPPORTED_OPERATION for deletes Quiver cannot apply:
   * deletion vectors (format v3 Puffin files), delete files that are not Parquet, equality deletes
   * on nested columns; a read never returns rows another engine deleted.
   */
  public List<ScanFile> files(long snapshotId, Expression filter) {
    snapshot(snapshotId);
    List<ScanFile> files = new ArrayList<>();
    // useSnapshot binds the filter to the schema the snapshot was written with, while Quiver
    // reads every snapshot with the current schema, which an ALTER TABLE may have changed since.
    Snapshot current = table.currentSnapshot();
    org.apache.iceberg.TableScan scan =
        current != null && current.snapshotId() == snapshotId
            ? table.newScan().filter(filter)
            : table.newScan().useSnapshot(snapshotId).filter(forSnapshot(filter, snapshotId));
    try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
      for (FileScanTask task : tasks) {
        files.add(scanFile(task));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot plan a scan of " + id, e);
    }
    files.sort(Comparator.comparing(ScanFile::data, PUT_ORDER));
    return files;
  }

  /**
   * {@code filter}, written against the current schema, for planning snapshot {@code snapshotId}:
   * unchanged when every column it names has the same field id and name in the snapshot's schema,
   * else no pruning at all (the scan still applies the filter to the rows it reads).
   */
  private Expression forSnapshot(Expression filter, long snapshotId) {
    Integer schemaId = table.snapshot(snapshotId).schemaId();
    org.apache.iceberg.Schema old = schemaId == null ? null : table.schemas().get(schemaId);
    if (old == null || old.schemaId() == table.schema().schemaId()) {
      return filter;
    }
    org.apache.iceberg.Schema now = table.schema();
    for (int fieldId : Binder.boundReferences(now.asStruct(), List.of(filter), true)) {
      String name = now.findColumnName(fieldId);
      if (name == null || !name.equals(old.findColumnName(fieldId))) {
        return Expressions.alwaysTrue();
      }
    }
    return filter;
  }

  private ScanFile scanFile(FileScanTask task) {
    if (task.deletes().isEmpty()) {
      return ScanFile.of(task.file());
    }
    if (task.file().recordCount() > Integer.MAX_VALUE) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Cannot read table %s: its data file %s has %d rows and row-level deletes; Quiver applies"
              + " deletes to files of at most %d rows",
          id,
          task.file().location(),
          task.file().recordCount(),
          Integer.MAX_VALUE);
    }
    List<ScanFile.Delete> deletes = new ArrayList<>();
    for (DeleteFile delete : task.deletes()) {
      if (delete.format() != FileFormat.PARQUET) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Cannot read table %s: it has %s delete files (%s)%s, which Quiver cannot apply yet",
            id,
            delete.format(),
            delete.location(),
            delete.format() == FileFormat.PUFFIN ? ", format v3 deletion vectors" : "");
      }
      deletes.add(new ScanFile.Delete(delete, equalityColumns(delete)));
    }
    return new ScanFile(task.file(), deletes);
  }

  private List<String> equalityColumns(DeleteFile delete) {
    if (delete.content() != FileContent.EQUALITY_DELETES) {
      return List.of();
    }
    org.apache.iceberg.Schema schema = table.schema();
    List<String> columns = new ArrayList<>();
    for (int fieldId : delete.equalityFieldIds()) {
      org.apache.iceberg.types.Types.NestedField column = schema.asStruct().field(fieldId);
      if (column == null) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Cannot read table %s: its equality delete file %s matches on field id %d, which is"
                + " not a top-level column of the table; Quiver cannot apply it",
            id,
            delete.location(),
            fieldId);
      }
      columns.add(column.name());
    }
    return columns;
  }

  /**
   * The data files appended after snapshot {@code fromExclusive} up to {@code toInclusive} that may
   * hold rows matching {@code filter}, in put order: an incremental read (Iceberg's incremental
   * append scan). Compactions (operation replace) in the range add no rows and are passed over; a
   * snapshot that overwrote or deleted rows fails INVALID_ARGUMENT naming it unless {@code
   * allowNonAppend}, and then only the files the range appended are returned. SNAPSHOT_NOT_FOUND
   * for an unknown snapshot, INVALID_ARGUMENT when {@code fromExclusive} is not an ancestor of
   * {@code toInclusive} (a later snapshot, or one of another branch of history).
   */
  public List<ScanFile> appendedFiles(
      long fromExclusive, long toInclusive, Expression filter, boolean allowNonAppend) {
    snapshot(fromExclusive);
    Snapshot to = snapshot(toInclusive);
    if (fromExclusive == toInclusive) {
      return List.of();
    }
    List<Snapshot> range = new ArrayList<>();
    for (Snapshot s = to; s.snapshotId() != fromExclusive; ) {
      range.add(s);
      Snapshot parent = s.parentId() == null ? null : table.snapshot(s.parentId());
      if (parent == null) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Cannot read table %s incrementally from snapshot %d to %d: %d is not an earlier"
                + " snapshot of %d's history (from_snapshot_id must be older than snapshot_id)",
            id,
            fromExclusive,
            toInclusive,
            fromExclusive,
            toInclusive);
      }
      s = parent;
    }
    if (!allowNonAppend) {
      for (int i = range.size() - 1; i >= 0; i--) {
        Snapshot s = range.get(i);
        if (!DataOperations.APPEND.equals(s.operation())
            && !DataOperations.REPLACE.equals(s.operation())) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot read table %s incrementally from snapshot %d to %d: snapshot %d (operation"
                  + " %s) is not an append, so the appended rows are not the change; read snapshot %d"
                  + " whole, or set allow_non_append to read only the rows appended",
              id,
              fromExclusive,
              toInclusive,
              s.snapshotId(),
              s.operation(),
              toInclusive);
        }
      }
    }
    List<ScanFile> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks =
        table
            .newIncrementalAppendScan()
            .fromSnapshotExclusive(fromExclusive)
            .toSnapshot(toInclusive)
            .filter(filter)
            .planFiles()) {
      for (FileScanTask task : tasks) {
        files.add(scanFile(task));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot plan an incremental scan of " + id, e);
    }
    files.sort(Comparator.comparing(ScanFile::data, PUT_ORDER));
    return files;
  }

  private static final Comparator<DataFile> PUT_ORDER =
      Comparator.comparing(
              (DataFile f) -> f.dataSequenceNumber() == null ? 0L : f.dataSequenceNumber())
          .thenComparing(f -> directory(f.location()))
          .thenComparingLong(f -> fileNumber(f.location()))
          .thenComparing(DataFile::location);

  private static String directory(String location) {
    int slash = location.lastIndexOf('/');
    return slash < 0 ? "" : location.substring(0, slash);
  }

  private static long fileNumber(String location) {
    Matcher m = TRAILING_NUMBER.matcher(location);
    return m.find() ? Long.parseLong(m.group(1)) : 0L;
  }
}
