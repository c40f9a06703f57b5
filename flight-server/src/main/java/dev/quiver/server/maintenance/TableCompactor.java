package dev.quiver.server.maintenance;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.ScanReader;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlTableScan;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.expressions.Expressions;

/**
 * Compaction: bin-packs a table's small data files (under half of {@code storage.target-file-size})
 * into files of about that size. The rows are read through the SQL engine's DuckDB, as DoGet reads
 * them, and written by the Parquet writer, as a put writes them, inside an admitted call allocator
 * (the query limit applies per batch); the store commits them as one Iceberg rewrite validated from
 * the snapshot read.
 *
 * <p>Rows keep their order within the small files, which come together after the table's large
 * files of earlier commits. Deleted rows (Iceberg delete files) are left out, and the delete files
 * that applied only to the compacted files go in the same commit. Files compact with files of the
 * same partition spec and partition only, one commit per partition (a partition with one small file
 * is left alone), so the new files keep their partition and old-spec files stay in their old spec.
 */
@ThreadSafe
public final class TableCompactor {
  private final IcebergTableStore store;
  private final SqlEngine sql;
  private final MemoryGovernor memory;
  private final long targetFileBytes;
  private final int batchRows;

  /**
   * A compactor writing files of about {@code targetFileBytes} and reading {@code batchRows} rows a
   * batch.
   */
  public TableCompactor(
      IcebergTableStore store,
      SqlEngine sql,
      MemoryGovernor memory,
      long targetFileBytes,
      int batchRows) {
    this.store = requireNonNull(store, "store is null");
    this.sql = requireNonNull(sql, "sql is null");
    this.memory = requireNonNull(memory, "memory is null");
    this.targetFileBytes = targetFileBytes;
    this.batchRows = batchRows;
  }

  /**
   * Rewrites the table's small files when there are at least {@code minFiles} (at least 2) of them;
   * TABLE_NOT_FOUND if it does not exist, COMMIT_CONFLICT if a conflicting change committed
   * meanwhile (nothing is changed then), UNSUPPORTED_OPERATION for a table with dictionary-encoded
   * columns.
   */
  public CompactionReport compact(TableId id, int minFiles) throws IOException {
    QuiverTable table = store.load(id);
    Optional<Long> snapshot = table.currentSnapshotId();
    if (snapshot.isEmpty()) {
      return new CompactionReport(id, 0, 0, 0, 0, 0, 0);
    }
    List<ScanFile> all = table.files(snapshot.get(), Expressions.alwaysTrue());
    List<ScanFile> small =
        all.stream().filter(f -> f.data().fileSizeInBytes() < targetFileBytes / 2).toList();
    if (small.size() < Math.max(2, minFiles)) {
      return new CompactionReport(id, all.size(), 0, 0, 0, 0, 0);
    }
    if (table.arrowSchema().getFields().stream().anyMatch(f -> f.getDictionary() != null)) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Cannot compact table %s: its dictionary-encoded columns (%s) cannot be rewritten yet",
          id,
          table.arrowSchema().getFields().stream()
              .filter(f -> f.getDictionary() != null)
              .map(Field::getName)
              .toList());
    }
    // Files of one spec and partition compact together: a rewrite keeps their partition.
    Map<String, List<ScanFile>> groups = new LinkedHashMap<>();
    for (ScanFile f : small) {
      PartitionSpec spec = table.table().specs().get(f.data().specId());
      String key = f.data().specId() + "/" + spec.partitionToPath(f.data().partition());
      groups.computeIfAbsent(key, k -> new ArrayList<>()).add(f);
    }
    int rewrittenFiles = 0;
    int addedFiles = 0;
    long rewrittenBytes = 0;
    long addedBytes = 0;
    long rows = 0;
    for (List<ScanFile> group : groups.values()) {
      if (group.size() < 2) {
        continue;
      }
      PutReceipt receipt = rewrite(id, table, snapshot.get(), all, group);
      rewrittenFiles += group.size();
      rewrittenBytes += group.stream().mapToLong(f -> f.data().fileSizeInBytes()).sum();
      addedFiles += receipt.files();
      addedBytes += receipt.bytes();
      rows += receipt.rows();
    }
    return new CompactionReport(
        id, all.size(), rewrittenFiles, addedFiles, rewrittenBytes, addedBytes, rows);
  }

  /** Rewrites {@code small}, files of one spec and partition among {@code all}, as one commit. */
  private PutReceipt rewrite(
      TableId id, QuiverTable table, long snapshot, List<ScanFile> all, List<ScanFile> small)
      throws IOException {
    String call = "compact-table " + id;
    // Local paths of the small files: in place, or read-cache copies in a remote warehouse.
    try (LocalFiles files = store.localFiles(table, small);
        BufferAllocator allocator = memory.newNativeCallAllocator(call);
        SqlTableScan scan =
            SqlTableScan.open(
                sql, allocator, null, table, files, table.arrowSchema(), null, -1, batchRows);
        ScanReader rows =
            new ScanReader(
                allocator,
                scan,
                table.arrowSchema(),
                () -> memory.checkQueryLimit(call, allocator))) {
      return store.rewrite(table, snapshot, small, obsoleteDeletes(all, small), rows, allocator);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot compact table %s: %s", id, e.getMessage());
    }
  }

  /**
   * The delete files that apply only to files being compacted: once their rows are rewritten
   * without the deleted ones they delete nothing, so the rewrite removes them. A delete file that
   * also applies to a file left alone stays.
   */
  static List<DeleteFile> obsoleteDeletes(List<ScanFile> all, List<ScanFile> compacted) {
    Set<String> rewritten = new HashSet<>();
    compacted.forEach(f -> rewritten.add(f.data().location()));
    Map<String, DeleteFile> candidates = new LinkedHashMap<>();
    Set<String> kept = new HashSet<>();
    for (ScanFile file : all) {
      for (ScanFile.Delete delete : file.deletes()) {
        String location = delete.file().location();
        if (rewritten.contains(file.data().location())) {
          candidates.putIfAbsent(location, delete.file());
        } else {
          kept.add(location);
        }
      }
    }
    kept.forEach(candidates::remove);
    return List.copyOf(candidates.values());
  }
}
