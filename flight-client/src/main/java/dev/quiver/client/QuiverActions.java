package dev.quiver.client;

/**
 * The names of Quiver's DoAction types. Bodies and results are UTF-8 JSON objects.
 *
 * <ul>
 *   <li>{@value #DROP_TABLE}: body {@code {"namespace": "ns", "table": "t"}}; result {@code
 *       {"dropped": "ns.t"}}. NOT_FOUND if absent.
 *   <li>{@value #LIST_SNAPSHOTS}: body as drop-table; result {@code {"table": "ns.t",
 *       "current_snapshot_id": S, "snapshots": [{"snapshot_id", "parent_id", "timestamp_ms",
 *       "operation", "added_records", "total_records", "added_files"}]}}, oldest first.
 *   <li>{@value #SERVER_INFO}: empty body; result {@code {"name", "version", "arrow_version",
 *       "iceberg_version", "java_version", "data_dir", "warehouse", "location"}}.
 *   <li>{@value #MEMORY_REPORT}: empty body; result: the memory governor's limits, allocated and
 *       peak bytes, pressure, admission queue, every live call's allocator, recent limit hits and
 *       plain-language recommendations.
 *   <li>{@value #REMOVE_ORPHAN_FILES}: body empty or {@code {"min_age_seconds": N, "dry_run":
 *       bool}} (defaults 0 and false); deletes the files under the warehouse that no snapshot or
 *       metadata of any table references and no running upload owns (what killed uploads and
 *       commits leave); result {@code {"removed_files", "removed_bytes", "files": [{"path",
 *       "bytes"}] (at most 1000), "tables_scanned", "skipped_live", "skipped_young",
 *       "removed_directories", "dry_run"}}.
 *   <li>{@value #EXPIRE_SNAPSHOTS}: body {@code {"namespace": "ns", "table": "t", "older_than":
 *       ISO-8601 instant, "retain_last": N}} (the last two optional: the server's
 *       maintenance.expire-after ago and maintenance.retain-last); expires the snapshots that
 *       stopped being current before older_than, keeping the last N, and deletes the files only
 *       they reached; result {@code {"table", "older_than", "retain_last", "snapshots_expired",
 *       "snapshots_kept", "files_deleted", "bytes_deleted"}}.
 *   <li>{@value #COMPACT_TABLE}: body as drop-table; rewrites the table's data files under half of
 *       the server's storage.target-file-size into files of about that size, in one commit that
 *       keeps concurrent puts; result {@code {"table", "files_before", "files_rewritten",
 *       "files_added", "bytes_rewritten", "bytes_added", "rows"}}. A partitioned table is compacted
 *       partition by partition, one commit each.
 *   <li>{@value #SET_PARTITIONING}: body {@code {"namespace", "table", "partitioning": ["day(ts)",
 *       "bucket(16, id)", "truncate(4, name)", "region"]}} (an empty list: unpartitioned); evolves
 *       the table's partition spec (files already written keep theirs); result {@code {"table",
 *       "spec_id", "partitioning": [...]}}.
 * </ul>
 */
public final class QuiverActions {
  public static final String DROP_TABLE = "drop-table";
  public static final String LIST_SNAPSHOTS = "list-snapshots";
  public static final String SERVER_INFO = "server-info";
  public static final String MEMORY_REPORT = "memory-report";
  public static final String REMOVE_ORPHAN_FILES = "remove-orphan-files";
  public static final String EXPIRE_SNAPSHOTS = "expire-snapshots";
  public static final String COMPACT_TABLE = "compact-table";
  public static final String SET_PARTITIONING = "set-partitioning";

  private QuiverActions() {}
}
