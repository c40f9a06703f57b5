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
 * The staged changes of one Flight SQL transaction: statements change a working copy of each table
 * (an Iceberg transaction that is never committed itself), and {@link #commit} applies each table's
 * net change (data files added, data files removed) as ONE snapshot, validated against the snapshot
 * the transaction first read of it; several tables commit together ({@link
 * IcebergTableStore#commitStagedTogether}).
 *
 * <p>Staged rows live in Parquet files under the table's location, registered as live uploads (so
 * orphan removal leaves them) until the transaction ends; {@link #rollback} deletes them.
 * Statements of one transaction are serialised by the caller; the methods here are synchronized.
 */
@ThreadSafe
public final class TableTransaction {
  private final IcebergTableStore store;
  private final String name;

  /** What the transaction changes, table by table, in the order it first wrote them. */
  @GuardedBy("this")
  private final Map<TableId, Staging> tables = new LinkedHashMap<>();

  @GuardedBy("this")
  private boolean ended;

  /** One table's staged changes. */
  private static final class Staging {
    final QuiverTable base;
    final QuiverTable view;
    final List<IcebergTableStore.Staged> staged = new ArrayList<>();

    /** The OR of the conflict filters of the statements that removed rows (false: appends). */
    Expression conflictFilter = Expressions.alwaysFalse();

    Staging(QuiverTable base, QuiverTable view) {
      this.base = base;
      this.view = view;
    }
  }

  /**
   * A table's net change at commit: {@code added} and {@code removed} data files against {@code
   * base} as of {@code baseSnapshot} (0: none), with the conflict filter of its statements.
   */
  record Change(
      QuiverTable base,
      long baseSnapshot,
      List<DataFile> added,
      List<DataFile> removed,
      Expression conflictFilter) {}

  TableTransaction(IcebergTableStore store, String name) {
    this.store = requireNonNull(store, "store is null");
    this.name = requireNonNull(name, "name is null");
  }

  /** The transaction's name, for messages. */
  public String name() {
    return name;
  }

  /** The tables this transaction changed so far. */
  public synchronized Set<TableId> changedTables() {
    return Set.copyOf(tables.keySet());
  }

  /**
   * The table {@code id} as this transaction sees it, to be written: its staged view, made from the
   * table's current snapshot on the transaction's first write to it. TABLE_NOT_FOUND when it does
   * not exist.
   */
  public synchronized QuiverTable stage(TableId id) {
    requireOpen();
    Staging staging = tables.get(id);
    if (staging != null) {
      return staging.view;
    }
    QuiverTable base = store.load(id);
    Transaction working = base.table().newTransaction();
    // A table over the Iceberg transaction's operations: it scans (the transaction's own table
    // does not) and its commits replace the transaction's current metadata. The updates are not
    // listed with the Iceberg transaction, which is never committed itself: commit() folds their
    // net change into one snapshot of its own.
    Table table =
        new BaseTable(((HasTableOperations) working.table()).operations(), base.table().name());
    QuiverTable view = new QuiverTable(id, table, base.arrowSchema());
    tables.put(id, new Staging(base, view));
    store.registerStaging(table, this);
    return view;
  }

  /** Keeps the files of a statement's staged change to {@code working} until the end. */
  synchronized void keep(Table working, IcebergTableStore.Staged files) {
    staging(working).staged.add(files);
  }

  /** Widens the conflict check of {@code working}'s commit by the rows a statement removed. */
  synchronized void removedRows(Table working, Expression filter) {
    Staging staging = staging(working);
    staging.conflictFilter = Expressions.or(staging.conflictFilter, filter);
  }

  private Staging staging(Table working) {
    return tables.values().stream()
        .filter(s -> s.view.table() == working)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("Not a table of transaction " + name));
  }

  /**
   * Applies the staged changes, one snapshot per table changed, all tables together or none, and
   * ends the transaction: the receipt counts the rows and files added; empty when nothing was
   * changed. On any failure nothing is committed, the staged files are deleted and the transaction
   * is over (COMMIT_CONFLICT when a concurrent commit changed rows it read).
   */
  public synchronized Optional<PutReceipt> commit() throws IOException {
    requireOpen();
    ended = true;
    if (tables.isEmpty()) {
      return Optional.empty();
    }
    boolean committed = false;
    boolean mayBeCommitted = false;
    try {
      List<Change> changes = new ArrayList<>();
      for (Staging staging : tables.values()) {
        long baseSnapshot = staging.base.currentSnapshotId().orElse(0L);
        Map<String, DataFile> before = dataFiles(staging.base.table(), baseSnapshot);
        Map<String, DataFile> after =
            dataFiles(staging.view.table(), staging.view.currentSnapshotId().orElse(0L));
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
        changes.add(new Change(staging.base, baseSnapshot, added, removed, staging.conflictFilter));
      }
      PutReceipt receipt =
          changes.size() == 1
              ? store.commitStaged(changes.get(0), name)
              : store.commitStagedTogether(changes, name);
      committed = true;
      return Optional.of(receipt);
    } catch (QuiverException e) {
      // The catalog database failed during the commit, which may have taken the files: keep the
      // data files (orphan removal deletes them if no snapshot did).
      mayBeCommitted = e.code() == QuiverErrorCode.CATALOG_UNAVAILABLE;
      throw e;
    } finally {
      end(committed || mayBeCommitted);
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
   * Deletes what the working copies wrote that the tables do not reference: their manifests and
   * manifest lists always (a commit writes its own), the staged data files unless {@code committed}
   * (then only those a later statement of the transaction replaced).
   */
  private void end(boolean committed) throws IOException {
    IOException failure = null;
    for (Staging staging : tables.values()) {
      try {
        end(staging, committed);
      } catch (IOException | RuntimeException e) {
        if (failure == null) {
          failure = e instanceof IOException io ? io : new IOException(e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void end(Staging staging, boolean committed) throws IOException {
    Table table = staging.view.table();
    try {
      Set<Long> baseSnapshots = new HashSet<>();
      staging.base.table().snapshots().forEach(s -> baseSnapshots.add(s.snapshotId()));
      Set<String> kept = new HashSet<>();
      if (committed) {
        kept.addAll(dataFiles(table, staging.view.currentSnapshotId().orElse(0L)).keySet());
      }
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
      store.endStaging(table, staging.staged, kept);
    } finally {
      store.unregisterStaging(table);
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
