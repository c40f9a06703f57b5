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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;

/**
 * DELETE and UPDATE, copy-on-write: each is one Iceberg overwrite that replaces the data files
 * holding matching rows with rewritten ones, validated against the snapshot the statement read.
 *
 * <p>The statement's frame (the table, the SET columns, where WHERE starts) is read here; the
 * condition and the new values are DuckDB's, run against the table's own Parquet files ({@code
 * read_parquet}, aliased with the table's name), so the whole DuckDB expression language works and
 * DuckDB names a column that does not exist. Subqueries may read other Quiver tables.
 *
 * <p>Steps: the condition, where it translates ({@link WherePruning}), prunes the snapshot's files
 * by their statistics; one DuckDB query counts each remaining file's rows and matching rows (and,
 * for UPDATE, the NULLs each new value would give a NOT NULL column); files without matches stay; a
 * DELETE removes a file all of whose rows match and rewrites the others without the matching rows;
 * an UPDATE rewrites every file with a match. The rewrite streams from DuckDB into the Parquet
 * writer a batch at a time, through the caller's allocator. Thread-safe.
 */
final class RowChanges {
  static final String FILE = "quiver_file";
  private static final String MATCH = "quiver_match";
  private static final String NEW_VALUE = "quiver_new_";

  private final SqlEngine engine;
  private final IcebergTableStore store;
  private final Function<TableId, QuiverTable> targets;

  /** {@code targets} loads the table a statement changes (from the store, or a transaction). */
  RowChanges(SqlEngine engine, IcebergTableStore store, Function<TableId, QuiverTable> targets) {
    this.engine = requireNonNull(engine, "engine is null");
    this.store = requireNonNull(store, "store is null");
    this.targets = requireNonNull(targets, "targets is null");
  }

  /** A DELETE's frame: the table and the condition, if any. */
  record Delete(TableId table, String alias, Optional<String> where) {
    static Delete parse(String sql, String schema) {
      SqlText.Name name = SqlText.readName(sql, SqlText.afterKeywords(sql, 0, "DELETE", "FROM"));
      TableId id = SqlUpdates.tableId(name, schema, sql);
      String rest = sql.substring(name.end());
      int where = SqlText.afterKeywords(rest, 0, "WHERE");
      if (where < 0 && !rest.isBlank()) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "DELETE takes a table and an optional WHERE condition, not '%s'",
            abbreviate(rest.strip()));
      }
      Optional<String> condition =
          where < 0 ? Optional.empty() : Optional.of(rest.substring(where));
      condition.ifPresent(c -> refuseReturning(c, "DELETE"));
      return new Delete(id, last(name), condition);
    }
  }

  /** An UPDATE's frame: the table, the columns set with their new values, the condition. */
  record Update(TableId table, String alias, Map<String, String> set, Optional<String> where) {
    static Update parse(String sql, String schema) {
      SqlText.Name name = SqlText.readName(sql, SqlText.afterKeywords(sql, 0, "UPDATE"));
      TableId id = SqlUpdates.tableId(name, schema, sql);
      int set = SqlText.afterKeywords(sql, name.end(), "SET");
      if (set < 0) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_SQL,
            "UPDATE %s must be followed by SET column = value, ... (and an optional WHERE)",
            id);
      }
      int where = SqlText.topLevelKeyword(sql, set, "WHERE");
      String assignments = where < 0 ? sql.substring(set) : sql.substring(set, where);
      for (String clause : List.of("FROM", "RETURNING")) {
        if (SqlText.topLevelKeyword(assignments, 0, clause) >= 0) {
          throw new QuiverException(
              QuiverErrorCode.UNSUPPORTED_OPERATION,
              "UPDATE ... %s is not supported; UPDATE takes SET column = value, ... and an"
                  + " optional WHERE condition (which may hold subqueries)",
              clause);
        }
      }
      Map<String, String> values = new LinkedHashMap<>();
      for (String assignment : SqlText.splitTopLevel(assignments, ',')) {
        SqlText.Name column = SqlText.readName(assignment, 0);
        int equals = SqlText.skipBlank(assignment, column.end());
        if (column.parts().isEmpty()
            || equals >= assignment.length()
            || assignment.charAt(equals) != '=') {
          throw new QuiverException(
              QuiverErrorCode.INVALID_SQL,
              "UPDATE %s: cannot read '%s' as column = value",
              id,
              abbreviate(assignment.strip()));
        }
        String target = last(column);
        if (values.putIfAbsent(target, assignment.substring(equals + 1).strip()) != null) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT, "UPDATE %s sets column %s twice", id, target);
        }
      }
      Optional<String> condition =
          where < 0
              ? Optional.empty()
              : Optional.of(sql.substring(SqlText.afterKeywords(sql, where, "WHERE")));
      condition.ifPresent(c -> refuseReturning(c, "UPDATE"));
      return new Update(id, last(name), values, condition);
    }
  }

  /** Runs DELETE {@code sql} and returns how many rows it deleted. */
  long delete(
      String sql,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    Delete delete = Delete.parse(sql, schema);
    QuiverTable table = loadRewritable(targets, delete.table());
    Optional<Long> snapshot = table.currentSnapshotId();
    if (snapshot.isEmpty()) {
      return 0;
    }
    Expression filter = pruning(delete.where(), table);
    List<ScanFile> scanned = withoutDeletes(table, table.files(snapshot.get(), filter), "DELETE");
    List<DataFile> candidates = scanned.stream().map(ScanFile::data).toList();
    if (delete.where().isEmpty()) {
      // Every row goes: every file, unread.
      long rows = candidates.stream().mapToLong(DataFile::recordCount).sum();
      if (!candidates.isEmpty()) {
        store.overwrite(table, snapshot.get(), candidates, filter, null, -1, allocator, () -> {});
      }
      return rows;
    }
    try (LocalFiles local = store.localFiles(table, scanned)) {
      List<FileCount> counts =
          count(
              table,
              delete.alias(),
              candidates,
              local.paths(),
              delete.where(),
              Map.of(),
              schema,
              parameters,
              allocator);
      long matched = counts.stream().mapToLong(FileCount::matched).sum();
      if (matched == 0) {
        return 0;
      }
      List<DataFile> removed = new ArrayList<>();
      List<Path> rewritten = new ArrayList<>();
      long kept = 0;
      for (FileCount count : counts) {
        if (count.matched() > 0) {
          removed.add(count.file());
          if (count.matched() < count.rows()) {
            rewritten.add(count.path());
            kept += count.rows() - count.matched();
          }
        }
      }
      if (rewritten.isEmpty()) {
        store.overwrite(table, snapshot.get(), removed, filter, null, -1, allocator, () -> {});
        return matched;
      }
      StringBuilder select = new StringBuilder("SELECT ");
      List<Field> fields = table.arrowSchema().getFields();
      for (int i = 0; i < fields.size(); i++) {
        select.append(i == 0 ? "" : ", ").append(SqlText.identifier(fields.get(i).getName()));
      }
      select.append(" FROM ").append(readParquet(table, rewritten, delete.alias(), false));
      select.append(" WHERE NOT coalesce((").append(delete.where().get()).append("), false)");
      rewrite(
          table,
          snapshot.get(),
          removed,
          filter,
          select.toString(),
          schema,
          parameters,
          kept,
          allocator,
          afterBatch);
      return matched;
    }
  }

  /** Runs UPDATE {@code sql} and returns how many rows it changed (matched). */
  long update(
      String sql,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    Update update = Update.parse(sql, schema);
    QuiverTable table = loadRewritable(targets, update.table());
    Map<String, String> set = columnsSet(table, update);
    Optional<Long> snapshot = table.currentSnapshotId();
    if (snapshot.isEmpty()) {
      return 0;
    }
    Expression filter = pruning(update.where(), table);
    List<ScanFile> scanned = withoutDeletes(table, table.files(snapshot.get(), filter), "UPDATE");
    List<DataFile> candidates = scanned.stream().map(ScanFile::data).toList();
    try (LocalFiles local = store.localFiles(table, scanned)) {
      List<FileCount> counts =
          count(
              table,
              update.alias(),
              candidates,
              local.paths(),
              update.where(),
              set,
              schema,
              parameters,
              allocator);
      checkNotNull(table, set, counts);
      long matched = counts.stream().mapToLong(FileCount::matched).sum();
      if (matched == 0) {
        return 0;
      }
      List<DataFile> removed = new ArrayList<>();
      List<Path> rewritten = new ArrayList<>();
      long kept = 0;
      for (FileCount count : counts) {
        if (count.matched() > 0) {
          removed.add(count.file());
          rewritten.add(count.path());
          kept += count.rows();
        }
      }
      List<String> setColumns = new ArrayList<>(set.keySet());
      StringBuilder select = new StringBuilder("SELECT ");
      List<Field> fields = table.arrowSchema().getFields();
      for (int i = 0; i < fields.size(); i++) {
        String column = SqlText.identifier(fields.get(i).getName());
        int value = setColumns.indexOf(fields.get(i).getName());
        select.append(i == 0 ? "" : ", ");
        if (value < 0) {
          select.append(column);
        } else {
          select.append("CASE WHEN ").append(MATCH).append(" THEN ").append(NEW_VALUE + value);
          select.append(" ELSE ").append(column).append(" END AS ").append(column);
        }
      }
      select.append(" FROM (");
      select.append(newValues(table, set, rewritten, update.alias(), update.where(), false));
      select.append(")");
      rewrite(
          table,
          snapshot.get(),
          removed,
          filter,
          select.toString(),
          schema,
          parameters,
          kept,
          allocator,
          afterBatch);
      return matched;
    }
  }

  /** One data file's counts: its rows, those matching, NULLs each new value gives its column. */
  private record FileCount(DataFile file, Path path, long rows, long matched, List<Long> nulls) {}

  /**
   * Counts each file's rows and matching rows in one DuckDB query; for an UPDATE ({@code set} not
   * empty) also the matching rows whose new value of each set column is NULL, which evaluates every
   * new value once, so a value DuckDB cannot compute fails here, before anything is written.
   */
  private List<FileCount> count(
      QuiverTable table,
      String alias,
      List<DataFile> files,
      List<Path> paths,
      Optional<String> condition,
      Map<String, String> set,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator)
      throws Exception {
    if (files.isEmpty()) {
      return List.of();
    }
    StringBuilder sql = new StringBuilder("SELECT " + FILE + ", count(*), count(*) FILTER (WHERE ");
    sql.append(MATCH).append(')');
    for (int i = 0; i < set.size(); i++) {
      sql.append(", count(*) FILTER (WHERE ").append(MATCH).append(" AND ");
      sql.append(NEW_VALUE + i).append(" IS NULL)");
    }
    sql.append(" FROM (").append(newValues(table, set, paths, alias, condition, true));
    sql.append(") GROUP BY ").append(FILE);
    Map<String, FileCount> byPath = new HashMap<>();
    for (int f = 0; f < files.size(); f++) {
      byPath.put(paths.get(f).toString(), new FileCount(files.get(f), paths.get(f), 0, 0, null));
    }
    List<FileCount> counts = new ArrayList<>();
    try (SqlQuery query =
        engine.prepare(
            sql.toString(), schema, parameters, Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      while (query.next()) {
        VectorSchemaRoot root = query.root();
        for (int row = 0; row < root.getRowCount(); row++) {
          FileCount file = byPath.get(String.valueOf(root.getVector(0).getObject(row)));
          if (file == null) {
            throw new QuiverException(
                QuiverErrorCode.INTERNAL,
                "Counted rows of %s, which is not a file of table %s",
                root.getVector(0).getObject(row),
                table.id());
          }
          List<Long> nulls = new ArrayList<>();
          for (int c = 3; c < root.getFieldVectors().size(); c++) {
            nulls.add(((BigIntVector) root.getVector(c)).get(row));
          }
          counts.add(
              new FileCount(
                  file.file(),
                  file.path(),
                  ((BigIntVector) root.getVector(1)).get(row),
                  ((BigIntVector) root.getVector(2)).get(row),
                  nulls));
        }
      }
    }
    return counts;
  }

  /**
   * Runs {@code select} (the rows to keep, in the table's columns) and commits them in place of
   * {@code removed}.
   */
  private void rewrite(
      QuiverTable table,
      long snapshot,
      List<DataFile> removed,
      Expression filter,
      String select,
      String schema,
      List<Object> parameters,
      long kept,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    SqlQuery query = engine.prepare(select, schema, parameters, Map.of(), List.of());
    try (SqlTableScan scan =
            SqlTableScan.over(query, allocator, table.arrowSchema(), SqlEngine.WRITE_BATCH_ROWS);
        ScanReader rows = new ScanReader(allocator, scan, table.arrowSchema(), afterBatch)) {
      store.overwrite(table, snapshot, removed, filter, rows, kept, allocator, () -> {});
    }
  }

  /**
   * The rows of {@code files} with {@value #MATCH} and, for each column {@code set}, in the
   * statement's order (so its parameters keep theirs), its new value for matching rows as {@value
   * #NEW_VALUE}0, 1, ... (NULL for the others, whose values are never computed).
   */
  private static String newValues(
      QuiverTable table,
      Map<String, String> set,
      List<Path> files,
      String alias,
      Optional<String> condition,
      boolean withFile) {
    StringBuilder sql = new StringBuilder("SELECT *");
    int i = 0;
    for (Map.Entry<String, String> value : set.entrySet()) {
      Field column = table.arrowSchema().findField(value.getKey());
      sql.append(", CASE WHEN ").append(MATCH).append(" THEN ");
      sql.append(cast(value.getValue(), column)).append(" END AS ").append(NEW_VALUE + i++);
    }
    sql.append(" FROM ").append(matching(table, files, alias, condition.orElse("true"), withFile));
    return sql.toString();
  }

  /**
   * {@code files} as a relation with the table's columns, a boolean {@value #MATCH} (the condition,
   * NULL as false) and, when {@code withFile}, each row's file as {@value #FILE}.
   */
  private static String matching(
      QuiverTable table, List<Path> files, String alias, String condition, boolean withFile) {
    return "(SELECT *, coalesce(("
        + condition
        + "), false) AS "
        + MATCH
        + " FROM "
        + readParquet(table, files, alias, withFile)
        + ") AS "
        + SqlText.identifier(alias);
  }

  /**
   * {@code files}, some of {@code table}'s data files, as a relation named {@code alias} (columns
   * found as {@link FieldIdColumns} says), with each row's file as {@value #FILE} when {@code
   * withFile}.
   */
  static String readParquet(QuiverTable table, List<Path> files, String alias, boolean withFile) {
    return readParquet(files, FieldIdColumns.of(table), alias, withFile);
  }

  /**
   * Files a put just staged, written with the table's current schema, as a relation named {@code
   * alias}: their columns by name.
   */
  static String readStaged(List<Path> files, String alias) {
    return readParquet(files, FieldIdColumns.BY_NAME, alias, false);
  }

  private static String readParquet(
      List<Path> files, FieldIdColumns columns, String alias, boolean withFile) {
    StringBuilder sql = new StringBuilder("read_parquet([");
    for (int i = 0; i < files.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append(SqlText.literal(files.get(i).toString()));
    }
    sql.append(']').append(columns.option());
    if (withFile) {
      sql.append(", filename = ").append(SqlText.literal(FILE));
    }
    return sql.append(") AS ").append(SqlText.identifier(alias)).toString();
  }

  private static String cast(String value, Field column) {
    return "CAST((" + value + ") AS " + DuckDbTypes.sqlType(column) + ")";
  }

  /**
   * The UPDATE's new values keyed by the table's own column names (DuckDB ignores case);
   * INVALID_ARGUMENT for a column the table lacks or one its partitioning derives from.
   */
  private static Map<String, String> columnsSet(QuiverTable table, Update update) {
    Map<String, String> byLowerCase = new HashMap<>();
    table
        .arrowSchema()
        .getFields()
        .forEach(f -> byLowerCase.put(f.getName().toLowerCase(Locale.ROOT), f.getName()));
    Map<String, String> set = new LinkedHashMap<>();
    for (Map.Entry<String, String> value : update.set().entrySet()) {
      String column = byLowerCase.get(value.getKey().toLowerCase(Locale.ROOT));
      if (column == null) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Table %s has no column %s (its columns: %s)",
            update.table(),
            value.getKey(),
            String.join(", ", byLowerCase.values()));
      }
      for (PartitionField partition : table.table().spec().fields()) {
        if (table.table().schema().findColumnName(partition.sourceId()).equals(column)) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot UPDATE column %s of table %s: the table is partitioned by it (%s)",
              column,
              update.table(),
              partition);
        }
      }
      if (set.put(column, value.getValue()) != null) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "UPDATE %s sets column %s twice",
            update.table(),
            column);
      }
    }
    return set;
  }

  private static void checkNotNull(
      QuiverTable table, Map<String, String> set, List<FileCount> counts) {
    List<String> columns = new ArrayList<>(set.keySet());
    for (int c = 0; c < columns.size(); c++) {
      String column = columns.get(c);
      Field field = table.arrowSchema().findField(column);
      if (field.isNullable()) {
        continue;
      }
      int index = c;
      long nulls = counts.stream().mapToLong(f -> f.nulls().get(index)).sum();
      if (nulls > 0) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Column %s of table %s is NOT NULL but the UPDATE sets it to NULL in %d rows;"
                + " nothing was changed",
            column,
            table.id(),
            nulls);
      }
    }
  }

  /**
   * {@code files}, refused (UNSUPPORTED_OPERATION naming the table and a file) when a delete file
   * another engine wrote applies to one: the rewrite reads the data files as they are, so it would
   * bring back the rows those deletes removed.
   */
  static List<ScanFile> withoutDeletes(QuiverTable table, List<ScanFile> files, String statement) {
    for (ScanFile file : files) {
      if (file.hasDeletes()) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Cannot %s rows of table %s: its data file %s has delete files (written by another"
                + " engine), and rewriting a file through its deletes is not supported yet;"
                + " nothing was changed",
            statement,
            table.id(),
            file.data().location());
      }
    }
    return files;
  }

  /** The table, refused (UNSUPPORTED_OPERATION) when a rewrite could not keep its columns. */
  static QuiverTable loadRewritable(Function<TableId, QuiverTable> targets, TableId id) {
    QuiverTable table = targets.apply(id);
    List<String> dictionaries =
        table.arrowSchema().getFields().stream()
            .filter(f -> f.getDictionary() != null)
            .map(Field::getName)
            .toList();
    if (!dictionaries.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Cannot change rows of table %s: its dictionary-encoded columns (%s) cannot be"
              + " rewritten yet",
          id,
          String.join(", ", dictionaries));
    }
    return table;
  }

  private Expression pruning(Optional<String> where, QuiverTable table) {
    if (where.isEmpty()) {
      return Expressions.alwaysTrue();
    }
    return engine.pruning(where.get(), table.table().schema());
  }

  static void refuseReturning(String condition, String statement) {
    if (SqlText.topLevelKeyword(condition, 0, "RETURNING") >= 0) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "%s ... RETURNING is not supported; the statement returns the count of rows changed",
          statement);
    }
  }

  static String last(SqlText.Name name) {
    return name.parts().get(name.parts().size() - 1);
  }

  private static String abbreviate(String text) {
    return text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }
}
