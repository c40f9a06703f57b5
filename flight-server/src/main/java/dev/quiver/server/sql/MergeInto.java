package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.expressions.Expressions;

/**
 * MERGE INTO, copy-on-write, as one Iceberg overwrite: DuckDB runs the MERGE on a temporary table
 * of the rows of the files the source matches, whose rows then replace those files ({@link
 * #merge}). Thread-safe.
 */
final class MergeInto {
  private final SqlEngine engine;
  private final IcebergTableStore store;
  private final Function<TableId, QuiverTable> targets;

  /** {@code targets} loads the table a MERGE changes (from the store, or a transaction). */
  MergeInto(SqlEngine engine, IcebergTableStore store, Function<TableId, QuiverTable> targets) {
    this.engine = requireNonNull(engine, "engine is null");
    this.store = requireNonNull(store, "store is null");
    this.targets = requireNonNull(targets, "targets is null");
  }

  /**
   * A MERGE's frame: the target table and the name its rows go by, the source (a table or a
   * parenthesised query, with its alias), the ON condition and the WHEN clauses as written.
   */
  record Frame(TableId table, String alias, String source, String on, String clauses) {
    private static final Pattern BY_SOURCE =
        Pattern.compile("\\bNOT\\s+MATCHED\\s+BY\\s+SOURCE\\b", Pattern.CASE_INSENSITIVE);

    static Frame parse(String sql, String schema) {
      SqlText.Name name = SqlText.readName(sql, SqlText.afterKeywords(sql, 0, "MERGE", "INTO"));
      TableId id = SqlUpdates.tableId(name, schema, sql);
      int using = SqlText.topLevelKeyword(sql, name.end(), "USING");
      int when = using < 0 ? -1 : SqlText.topLevelKeyword(sql, using, "WHEN");
      // The last top-level ON before the first WHEN: a source that is a join has ONs of its own.
      int on = -1;
      for (int at = using; at >= 0 && (when < 0 || at < when); ) {
        at = SqlText.topLevelKeyword(sql, at + 1, "ON");
        if (at >= 0 && (when < 0 || at < when)) {
          on = at;
        } else {
          break;
        }
      }
      if (using < 0 || on < 0 || when < 0) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_SQL,
            "MERGE INTO %s must read MERGE INTO table [AS alias] USING source ON condition WHEN"
                + " ...",
            id);
      }
      String alias = sql.substring(name.end(), using).strip();
      int afterAs = SqlText.afterKeywords(alias, 0, "AS");
      alias = afterAs < 0 ? alias : alias.substring(afterAs).strip();
      SqlText.Name aliasName = SqlText.readName(alias, 0);
      String clauses = sql.substring(when);
      if (BY_SOURCE.matcher(clauses).find()) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "MERGE ... WHEN NOT MATCHED BY SOURCE is not supported yet (it changes rows outside"
                + " the source's matches); use DELETE or UPDATE for those rows");
      }
      RowChanges.refuseReturning(clauses, "MERGE");
      return new Frame(
          id,
          aliasName.parts().isEmpty() ? RowChanges.last(name) : RowChanges.last(aliasName),
          sql.substring(SqlText.afterKeywords(sql, using, "USING"), on).strip(),
          sql.substring(SqlText.afterKeywords(sql, on, "ON"), when).strip(),
          clauses);
    }

    /** A query reading what the MERGE reads: the target joined with the source. */
    String reads() {
      return "SELECT 1 FROM "
          + table
          + " AS "
          + SqlText.identifier(alias)
          + " JOIN "
          + source
          + " ON "
          + on;
    }
  }

  /**
   * Runs MERGE {@code sql} and returns how many target rows it inserted, updated or deleted.
   *
   * <p>A join of the target's files with the source finds the files holding matched rows; DuckDB
   * runs the MERGE itself on a temporary table of just those files' rows (a source row that matches
   * nothing in the whole table matches nothing there either, so WHEN NOT MATCHED inserts the same
   * rows), and the temporary table's rows replace those files. The temporary table lives in
   * DuckDB's memory, which spills past {@code sql.memory-limit}.
   */
  long merge(String sql, String schema, BufferAllocator allocator, Runnable afterBatch)
      throws Exception {
    Frame merge = Frame.parse(sql, schema);
    QuiverTable table = RowChanges.loadRewritable(targets, merge.table());
    long snapshot = table.currentSnapshotId().orElse(0L);
    List<ScanFile> scanned =
        snapshot == 0
            ? List.of()
            : RowChanges.withoutDeletes(
                table, table.files(snapshot, Expressions.alwaysTrue()), "MERGE");
    List<DataFile> files = scanned.stream().map(ScanFile::data).toList();
    try (LocalFiles local = store.localFiles(table, scanned)) {
      List<DataFile> matched = matchedFiles(table, merge, files, local.paths(), schema, allocator);
      List<Path> paths = new ArrayList<>();
      for (DataFile file : matched) {
        paths.add(local.paths().get(files.indexOf(file)));
      }
      long[] changed = new long[1];
      String target = "temp.main.quiver_merge_target";
      String create = "CREATE TEMP TABLE quiver_merge_target AS " + typedRows(table, paths);
      String run =
          "MERGE INTO "
              + target
              + " AS "
              + SqlText.identifier(merge.alias())
              + " USING "
              + merge.source()
              + " ON "
              + merge.on()
              + " "
              + merge.clauses();
      SqlQuery query;
      try {
        query =
            engine.prepareAfter(
                "SELECT * FROM " + target,
                schema,
                merge.reads(),
                statement -> {
                  statement.execute(create);
                  changed[0] = statement.executeUpdate(run);
                });
      } catch (QuiverException e) {
        if (String.valueOf(e.getMessage()).contains("more than once")) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              e,
              "MERGE source matches a target row of table %s more than once; each target row may"
                  + " match one source row at most (make the ON condition unique); nothing was"
                  + " changed",
              merge.table());
        }
        throw e;
      }
      if (changed[0] == 0) {
        query.close();
        return 0;
      }
      try (SqlTableScan scan =
              SqlTableScan.over(query, allocator, table.arrowSchema(), SqlEngine.WRITE_BATCH_ROWS);
          ScanReader rows = new ScanReader(allocator, scan, table.arrowSchema(), afterBatch)) {
        store.overwrite(
            table, snapshot, matched, Expressions.alwaysTrue(), rows, -1, allocator, () -> {});
      }
      return changed[0];
    }
  }

  /** The files holding target rows some source row matches, in table order. */
  private List<DataFile> matchedFiles(
      QuiverTable table,
      Frame merge,
      List<DataFile> files,
      List<Path> paths,
      String schema,
      BufferAllocator allocator)
      throws Exception {
    if (files.isEmpty()) {
      return List.of();
    }
    String sql =
        "SELECT DISTINCT "
            + SqlText.identifier(merge.alias())
            + "."
            + RowChanges.FILE
            + " FROM "
            + RowChanges.readParquet(table, paths, merge.alias(), true)
            + " JOIN "
            + merge.source()
            + " ON "
            + merge.on();
    List<String> names = new ArrayList<>();
    try (SqlQuery query =
        engine.prepare(sql, schema, List.of(), Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      while (query.next()) {
        for (int row = 0; row < query.root().getRowCount(); row++) {
          names.add(String.valueOf(query.root().getVector(0).getObject(row)));
        }
      }
    }
    List<DataFile> matched = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      if (names.contains(paths.get(i).toString())) {
        matched.add(files.get(i));
      }
    }
    return matched;
  }

  /** The rows of {@code files} in the table's columns and DuckDB types; none for no files. */
  private static String typedRows(QuiverTable table, List<Path> files) {
    StringBuilder sql = new StringBuilder("SELECT ");
    List<Field> fields = table.arrowSchema().getFields();
    for (int i = 0; i < fields.size(); i++) {
      String column = SqlText.identifier(fields.get(i).getName());
      sql.append(i == 0 ? "" : ", ").append("CAST(");
      sql.append(files.isEmpty() ? "NULL" : column).append(" AS ");
      sql.append(DuckDbTypes.sqlType(fields.get(i))).append(") AS ").append(column);
    }
    if (files.isEmpty()) {
      return sql.append(" WHERE false").toString();
    }
    return sql.append(" FROM ")
        .append(RowChanges.readParquet(table, files, "quiver_rows", false))
        .toString();
  }
}
