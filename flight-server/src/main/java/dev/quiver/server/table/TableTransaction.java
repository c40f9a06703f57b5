package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The staged changes of one Flight SQL transaction: statements change a working copy of the table
 * (an Iceberg transaction that is never committed itself), and {@link #commit} applies the net
 * change (data files added, data files removed) to the table as ONE snapshot, validated against the
 * snapshot the transaction first read.
 *
 * <p>Staged rows live in Parquet files under the table's location, registered as live uploads (so
 * orphan removal leaves them) until the transaction ends; {@link #rollback} deletes them. One table
 * per transaction: a statement that would change a second table is refused before it runs.
 * Statements of one transaction are serialised by the caller; the methods here are synchronized.
 */
@ThreadSafe
public final class TableTransaction {
  private final IcebergTableStore store;
  private final String name;

  @GuardedBy("this")
  private QuiverTable base;

  @GuardedBy("this")
  private Transaction working;

  @GuardedBy("this")
  private QuiverTable view;

  @GuardedBy("this")
  private final List<IcebergTableStore.Staged> staged = new ArrayList<>();

  /** The OR of the conflict filters of the statements that removed rows (false: appends only). */
  @GuardedBy("this")
  private Expression conflictFilter = Expressions.alwaysFalse();

  @GuardedBy("this")
  private boolean ended;

  TableTransaction(IcebergTableStore store, String name) {
    this.store = requireNonNull(store, "store is null");
    this.name = requireNonNull(name, "name is null");
  }

  /** The transaction's name, for messages. */
  public String name() {
    return name;
  }

  /** The table this transaction changes, if it changed one yet. */
  public synchronized Optional<TableId> changedTable() {
    return view == null ? Optional.empty() : Optional.of(view.id());
  }

  /**
   * The table {@code id} as this transaction sees it, to be written: its staged view, made from the
   * table's current snapshot on the first write. TABLE_NOT_FOUND when it does not exist;
   * UNSUPPORTED_OPERATION when the transaction already changes another table.
   */
  public synchronized QuiverTable stage(TableId id) {
    requireOpen();
    if (view != null) {
      if (!view.id().equals(id)) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Transaction %s already changes table %s; changing a second table (%s) in one"
                + " transaction is not supported yet (it could not commit atomically); commit"
                + " this one first. Nothing was changed",
            name,
            view.id(),
            id);
      }
      return view;
    }
    base = store.load(id);
    working = base.table().newTransaction();
    // A table over the transaction's operations: it scans (an Iceberg transaction's own table does
    // not) and its commits replace the transaction's current metadata. The updates are not listed
    // with the Iceberg transaction, which is never committed itself: commit() folds their net
    // change into one snapshot of its own.
    Table table =
        new BaseTable(((HasTableOperations) working.table()).operations(), base.table().name());
    view = new QuiverTable(id, table, base.arrowSchema());
    store.registerStaging(table, this);
    return view;
  }

  /** Keeps the files of a statement's staged change until the transaction ends. */
  synchronized void keep(IcebergTableStore.Staged files) {
    staged.add(files);
  }

  /** Widens the conflict check of the commit by the rows a statement removed or rewrote. */
  synchronized void removedRows(Expression filter) {
    conflictFilter = Expressions.or(conflictFilter, filter);
  }

  /**
   * Applies the staged changes as one snapshot and ends the transaction: the receipt counts the
   * rows and files added; empty when nothing was changed. On any failure nothing is committed, the
   * staged files are deleted and the transaction is over (COMMIT_CONFLICT when a concurrent commit
   * changed rows it read).
   */
  public synchronized Optional<PutReceipt> commit() throws IOException {
    requireOpen();
    ended = true;
    if (view == null) {
      return Optional.empty();
    }
    boolean committed = false;
    try {
      long baseSnapshot = base.currentSnapshotId().orElse(0L);
      Map<String, DataFile> before = dataFiles(base.table(), baseSnapshot);
      Map<String, DataFile> after = dataFiles(view.table(), view.currentSnapshotId().orElse(0L));
      List<DataFile> added =
          after.entrySet().stream()
              .filter(f -> !before.containsKey(f.getKey()))
              .map(Map.Entry::getValue)
              .toList();
      List<DataFile> removed =
          before.entrySet().stream()
              .filter(f -> !after.containsKey(f.getKey()))
              .map(Map.Entry::getValue)
              .toList();
      PutReceipt receipt =
          store.commitStaged(base, baseSnapshot, added, removed, conflictFilter, name);
      committed = true;
      return Optional.of(receipt);
    } finally {
      end(committed);
    }
  }

  /** Discards the staged changes, deletes their files and ends the transaction. */
  public synchronized void rollback() throws IOException {
    if (ended) {
      return;
    }
    ended = true;
    end(false);
  }

  /** Whether the transaction has ended (committed, rolled back or expired). */
  public synchronized boolean ended() {
    return ended;
  }

  private void requireOpen() {
    if (ended) {
      throw new QuiverException(
          QuiverErrorCode.TRANSACTION_NOT_FOUND, "Transaction %s has ended", name);
    }
  }

  /**
   * Deletes what the working copy wrote that the table does not reference: its manifests and
   * manifest lists always, the staged data files unless committed (then only those a later
   * statement of the transaction replaced).
   */
  private void end(boolean committed) throws IOException {
    if (view == null) {
      return;
    }
    try {
      Set<Long> baseSnapshots = new HashSet<>();
      base.table().snapshots().forEach(s -> baseSnapshots.add(s.snapshotId()));
      Set<String> kept = new HashSet<>();
      if (committed) {
        kept.addAll(dataFiles(view.table(), view.currentSnapshotId().orElse(0L)).keySet());
      }
      Table table = view.table();
      for (Snapshot s : table.snapshots()) {
        if (baseSnapshots.contains(s.snapshotId())) {
          continue;
        }
        for (ManifestFile manifest : s.allManifests(table.io())) {
          if (manifest.snapshotId() != null && manifest.snapshotId() == s.snapshotId()) {
            table.io().deleteFile(manifest.path());
          }
        }
        table.io().deleteFile(s.manifestListLocation());
      }
      store.endStaging(table, staged, kept);
    } finally {
      store.unregisterStaging(view.table());
    }
  }

  /** The data files of {@code table}'s snapshot by location; none for snapshot 0. */
  private static Map<String, DataFile> dataFiles(Table table, long snapshot) throws IOException {
    Map<String, DataFile> files = new LinkedHashMap<>();
    if (snapshot == 0) {
      return files;
    }
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(snapshot).planFiles()) {
      for (FileScanTask task : tasks) {
        files.put(task.file().location(), task.file());
      }
    }
    return files;
  }
}
