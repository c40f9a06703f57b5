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
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expression;
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
   * rows were put: older commits first, and within a commit in the order they were written.
   */
  public List<DataFile> files(long snapshotId, Expression filter) {
    snapshot(snapshotId);
    List<DataFile> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(snapshotId).filter(filter).planFiles()) {
      for (FileScanTask task : tasks) {
        if (!task.deletes().isEmpty()) {
          throw new QuiverException(
              QuiverErrorCode.UNSUPPORTED_OPERATION,
              "Table %s has row-level deletes (written by another engine), which Quiver cannot"
                  + " read yet",
              id);
        }
        files.add(task.file());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot plan a scan of " + id, e);
    }
    files.sort(PUT_ORDER);
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
