package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.IcebergTableStore.StagedPut;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.filter.FilterTranslator;
import dev.quiver.server.table.filter.ScanFilter;
import dev.quiver.server.table.filter.SqlFilter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Comparators;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * A put that replaces rows, copy-on-write, as one Iceberg overwrite validated against the snapshot
 * the put started from: overwrite (every row, or the rows a filter matches) and upsert on key
 * columns. The put's rows are staged as Parquet files as they stream in and committed as they are;
 * DuckDB reads them and the table's files to check the put and to find and rewrite the files
 * holding replaced rows, so neither the put nor the table is held in memory. Thread-safe.
 */
public final class PutChanges {
  private static final String PUT = "quiver_put";
  private static final String TARGET = "quiver_target";

  private final SqlEngine engine;
  private final IcebergTableStore store;

  public PutChanges(SqlEngine engine, IcebergTableStore store) {
    this.engine = requireNonNull(engine, "engine is null");
    this.store = requireNonNull(store, "store is null");
  }

  /**
   * Replaces the rows of table {@code id} that {@code filter} matches (every row when empty) with
   * the rows of {@code rows}, in one commit. Every put row must match the filter (INVALID_ARGUMENT
   * naming it otherwise). A commit made meanwhile that added rows the filter may match, or removed
   * or deleted from a file this replaces, fails it with COMMIT_CONFLICT; an append of other rows is
   * kept. {@code afterBatch} runs after each batch of rows rewritten from the table's files (a
   * cancellation check), {@code beforeCommit} just before the commit. Nothing is committed on any
   * failure.
   */
  public PutReceipt overwrite(
      TableId id,
      Optional<Filter> filter,
      ArrowReader rows,
      BufferAllocator allocator,
      Runnable afterBatch,
      Runnable beforeCommit)
      throws Exception {
    if (filter.isEmpty()) {
      QuiverTable table = store.load(id);
      long snapshot = table.currentSnapshotId().orElse(0L);
      List<DataFile> removed =
          snapshot == 0
              ? List.of()
              : table.files(snapshot, Expressions.alwaysTrue()).stream()
                  .map(ScanFile::data)
                  .toList();
      try (StagedPut put = store.stage(table, rows, allocator)) {
        PutReceipt receipt =
            store.overwrite(
                table,
                snapshot,
                removed,
                Expressions.alwaysTrue(),
                put,
                null,
                -1,
                allocator,
                beforeCommit);
        long deleted = removed.stream().mapToLong(DataFile::recordCount).sum();
        return withCounts(receipt, "overwrite", put.rows(), 0, deleted);
      }
    }
    QuiverTable table = RowChanges.loadRewritable(store::load, id);
    ScanFilter translated = FilterTranslator.translate(id, filter.get(), table.arrowSchema());
    SqlFilter where = translated.sql();
    if (where == null) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot overwrite rows of table %s by this Substrait filter: only a filter that reads as"
              + " a quiver.v1.Predicate (comparisons, IS NULL, AND, OR, NOT) can select rows to"
              + " replace",
          id);
    }
    String shown = filter.get().hasPredicate() ? show(filter.get().getPredicate()) : show(where);
    String matches = "coalesce((" + where.condition() + "), false)";
    long snapshot = table.currentSnapshotId().orElse(0L);
    try (StagedPut put = store.stage(table, rows, allocator)) {
      if (put.rows() > 0) {
        long outside =
            count(
                "SELECT count(*) FROM "
                    + RowChanges.readStaged(put.paths(), PUT)
                    + " WHERE NOT "
                    + matches,
                where.parameters(),
                allocator);
        if (outside > 0) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot overwrite rows of table %s where %s: %d of the put's %d rows do not match"
                  + " the filter; nothing was committed",
              id,
              shown,
              outside,
              put.rows());
        }
      }
      List<ScanFile> scanned =
          snapshot == 0
              ? List.of()
              : RowChanges.withoutDeletes(
                  table, table.files(snapshot, translated.iceberg()), "overwrite");
      try (LocalFiles local = store.localFiles(table, scanned)) {
        List<FileCount> counts =
            fileCounts(
                table,
                scanned,
                local.paths(),
                "count(*) FILTER (WHERE " + matches + ")",
                "",
                where.parameters(),
                allocator);
        Rewrite rewrite = Rewrite.of(counts);
        String keep = keep(table, rewrite, " WHERE NOT " + matches);
        PutReceipt receipt =
            commit(
                table,
                snapshot,
                rewrite,
                translated.iceberg(),
                put,
                keep,
                where.parameters(),
                allocator,
                afterBatch,
                beforeCommit);
        return withCounts(receipt, "overwrite", put.rows(), 0, rewrite.matched());
      }
    }
  }

  /**
   * Upserts the rows of {@code rows} into table {@code id} on {@code keyColumns}: each table row
   * whose key equals a put row's is replaced by it, the other put rows are inserted, in one commit.
   * INVALID_ARGUMENT (nothing committed) for a key column the table lacks, a null key or a key the
   * put holds twice. Concurrency as for {@link #overwrite}, with the put's key range (where the key
   * columns' statistics give one) as the rows it may match.
   */
  public PutReceipt upsert(
      TableId id,
      List<String> keyColumns,
      ArrowReader rows,
      BufferAllocator allocator,
      Runnable afterBatch,
      Runnable beforeCommit)
      throws Exception {
    QuiverTable table = RowChanges.loadRewritable(store::load, id);
    List<Field> keys = keyFields(table, keyColumns);
    long snapshot = table.currentSnapshotId().orElse(0L);
    try (StagedPut put = store.stage(table, rows, allocator)) {
      if (put.rows() == 0) {
        return new PutReceipt(0, 0, 0, snapshot, "upsert", 0, 0, 0); // nothing to commit
      }
      checkKeys(table, keys, put, allocator);
      Expression range = keyRange(table, keys, put);
      List<ScanFile> scanned =
          snapshot == 0
              ? List.of()
              : RowChanges.withoutDeletes(table, table.files(snapshot, range), "upsert");
      try (LocalFiles local = store.localFiles(table, scanned)) {
        String putKeys = putKeys(keys, put);
        List<FileCount> counts =
            fileCounts(
                table,
                scanned,
                local.paths(),
                "count(" + PUT + "." + SqlText.identifier(keys.get(0).getName()) + ")",
                " LEFT JOIN " + putKeys + " ON " + keyJoin(keys),
                List.of(),
                allocator);
        Rewrite rewrite = Rewrite.of(counts);
        long putRowsMatched =
            rewrite.removed().isEmpty()
                ? 0
                : count(
                    "SELECT count(*) FROM "
                        + putKeys
                        + " SEMI JOIN "
                        + RowChanges.readParquet(table, rewrite.removedPaths(), TARGET, false)
                        + " ON "
                        + keyJoin(keys),
                    List.of(),
                    allocator);
        String keep = keep(table, rewrite, " ANTI JOIN " + putKeys + " ON " + keyJoin(keys));
        PutReceipt receipt =
            commit(
                table,
                snapshot,
                rewrite,
                range,
                put,
                keep,
                List.of(),
                allocator,
                afterBatch,
                beforeCommit);
        return withCounts(receipt, "upsert", put.rows() - putRowsMatched, rewrite.matched(), 0);
      }
    }
  }

  /** One data file's rows and the rows the put replaces. */
  private record FileCount(DataFile file, Path path, long rows, long matched) {}

  /**
   * What a put replaces: the files with matched rows ({@code removed}, their local copies {@code
   * removedPaths}), those of them that keep some rows and so are rewritten ({@code paths}), the
   * rows kept and the rows matched.
   */
  private record Rewrite(
      List<DataFile> removed, List<Path> removedPaths, List<Path> paths, long kept, long matched) {
    static Rewrite of(List<FileCount> counts) {
      List<DataFile> removed = new ArrayList<>();
      List<Path> removedPaths = new ArrayList<>();
      List<Path> paths = new ArrayList<>();
      long kept = 0;
      long matched = 0;
      for (FileCount count : counts) {
        if (count.matched() > 0) {
          removed.add(count.file());
          removedPaths.add(count.path());
          matched += count.matched();
          if (count.matched() < count.rows()) {
            paths.add(count.path());
            kept += count.rows() - count.matched();
          }
        }
      }
      return new Rewrite(removed, removedPaths, paths, kept, matched);
    }
  }

  /**
   * Commits the put's files in place of the rewrite's removed files, with {@code keep} (a query of
   * the rows kept from the rewritten files, null for none) written as new files.
   */
  private PutReceipt commit(
      QuiverTable table,
      long snapshot,
      Rewrite rewrite,
      Expression conflictFilter,
      StagedPut put,
      String keep,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch,
      Runnable beforeCommit)
      throws Exception {
    SqlQuery query =
        keep == null ? null : engine.prepare(keep, "", parameters, Map.of(), List.of());
    try (SqlTableScan scan =
            query == null
                ? null
                : SqlTableScan.over(
                    query, allocator, table.arrowSchema(), SqlEngine.WRITE_BATCH_ROWS);
        ScanReader kept =
            scan == null
                ? null
                : new ScanReader(allocator, scan, table.arrowSchema(), afterBatch)) {
      return store.overwrite(
          table,
          snapshot,
          rewrite.removed(),
          conflictFilter,
          put,
          kept,
          kept == null ? -1 : rewrite.kept(),
          allocator,
          beforeCommit);
    }
  }

  /**
   * Each file's row count and {@code matchedCount} (an aggregate over the file's rows, aliased
   * {@value #TARGET}, joined by {@code join}), in one DuckDB query; files are in {@code files}'
   * order, those without rows left out.
   */
  private List<FileCount> fileCounts(
      QuiverTable table,
      List<ScanFile> files,
      List<Path> paths,
      String matchedCount,
      String join,
      List<Object> parameters,
      BufferAllocator allocator)
      throws Exception {
    if (files.isEmpty()) {
      return List.of();
    }
    String sql =
        "SELECT "
            + TARGET
            + "."
            + RowChanges.FILE
            + ", count(*), "
            + matchedCount
            + " FROM "
            + RowChanges.readParquet(table, paths, TARGET, true)
            + join
            + " GROUP BY 1";
    Map<String, Integer> byPath = new HashMap<>();
    for (int i = 0; i < paths.size(); i++) {
      byPath.put(paths.get(i).toString(), i);
    }
    FileCount[] counts = new FileCount[files.size()];
    try (SqlQuery query =
        engine.prepare(sql, "", parameters, Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      while (query.next()) {
        VectorSchemaRoot root = query.root();
        for (int row = 0; row < root.getRowCount(); row++) {
          Integer index = byPath.get(String.valueOf(root.getVector(0).getObject(row)));
          if (index == null) {
            throw new QuiverException(
                QuiverErrorCode.INTERNAL,
                "Counted rows of %s, which is not a file being read",
                root.getVector(0).getObject(row));
          }
          counts[index] =
              new FileCount(
                  files.get(index).data(),
                  paths.get(index),
                  ((BigIntVector) root.getVector(1)).get(row),
                  ((BigIntVector) root.getVector(2)).get(row));
        }
      }
    }
    List<FileCount> out = new ArrayList<>();
    for (FileCount count : counts) {
      if (count != null) {
        out.add(count);
      }
    }
    return out;
  }

  /** The one BIGINT {@code sql} returns. */
  private long count(String sql, List<Object> parameters, BufferAllocator allocator)
      throws Exception {
    try (SqlQuery query =
        engine.prepare(sql, "", parameters, Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      long total = 0;
      while (query.next()) {
        for (int row = 0; row < query.root().getRowCount(); row++) {
          total += ((BigIntVector) query.root().getVector(0)).get(row);
        }
      }
      return total;
    }
  }

  /** The key columns as the table's fields; INVALID_ARGUMENT naming one the table lacks. */
  private static List<Field> keyFields(QuiverTable table, List<String> keyColumns) {
    if (keyColumns.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot upsert into table %s without key columns: name at least one in key_columns",
          table.id());
    }
    List<Field> keys = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String column : keyColumns) {
      Field field =
          table.arrowSchema().getFields().stream()
              .filter(f -> f.getName().equals(column))
              .findFirst()
              .orElseThrow(
                  () ->
                      new QuiverException(
                          QuiverErrorCode.INVALID_ARGUMENT,
                          "Cannot upsert into table %s on key column %s: the table has no such"
                              + " column (its columns: %s)",
                          table.id(),
                          column,
                          String.join(
                              ", ",
                              table.arrowSchema().getFields().stream()
                                  .map(Field::getName)
                                  .toList())));
      if (!seen.add(column)) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Cannot upsert into table %s: key column %s is named twice",
            table.id(),
            column);
      }
      keys.add(field);
    }
    return keys;
  }

  /** INVALID_ARGUMENT naming the column of a null key, or a key the put holds more than once. */
  private void checkKeys(
      QuiverTable table, List<Field> keys, StagedPut put, BufferAllocator allocator)
      throws Exception {
    String rows = RowChanges.readStaged(put.paths(), PUT);
    StringBuilder nulls = new StringBuilder("SELECT ");
    for (int i = 0; i < keys.size(); i++) {
      nulls.append(i == 0 ? "" : ", ").append("count(*) FILTER (WHERE ");
      nulls.append(SqlText.identifier(keys.get(i).getName())).append(" IS NULL)");
    }
    nulls.append(" FROM ").append(rows);
    try (SqlQuery query =
        engine.prepare(nulls.toString(), "", List.of(), Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      while (query.next()) {
        for (int i = 0; i < keys.size(); i++) {
          long count = ((BigIntVector) query.root().getVector(i)).get(0);
          if (count > 0) {
            throw new QuiverException(
                QuiverErrorCode.INVALID_ARGUMENT,
                "Cannot upsert into table %s: key column %s is null in %d of the put's rows;"
                    + " nothing was committed",
                table.id(),
                keys.get(i).getName(),
                count);
          }
        }
      }
    }
    String columns = keyList(keys, null);
    String twice =
        "SELECT count(*) AS quiver_count, "
            + columns
            + " FROM "
            + rows
            + " GROUP BY "
            + columns
            + " HAVING count(*) > 1 LIMIT 1";
    try (SqlQuery query =
        engine.prepare(twice, "", List.of(), Map.of(), List.of(SqlEngine.MATERIALIZE))) {
      query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
      while (query.next()) {
        VectorSchemaRoot root = query.root();
        if (root.getRowCount() > 0) {
          StringBuilder key = new StringBuilder();
          for (int i = 0; i < keys.size(); i++) {
            key.append(i == 0 ? "" : ", ").append(keys.get(i).getName()).append('=');
            key.append(root.getVector(i + 1).getObject(0));
          }
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot upsert into table %s: the put holds key (%s) %d times, and a key may appear"
                  + " once; nothing was committed",
              table.id(),
              key,
              ((BigIntVector) root.getVector(0)).get(0));
        }
      }
    }
  }

  /**
   * The rows an upsert may replace as an Iceberg expression: each integer, date or timestamp key
   * column between the put's lowest and highest value (from its files' statistics), so files
   * outside the range are not read and appends outside it do not conflict; true otherwise.
   */
  private static Expression keyRange(QuiverTable table, List<Field> keys, StagedPut put) {
    Expression range = Expressions.alwaysTrue();
    for (Field key : keys) {
      Types.NestedField column = table.table().schema().findField(key.getName());
      if (column == null || !ordered(column.type())) {
        continue;
      }
      Object lower = bound(put.metrics(), column, true);
      Object upper = bound(put.metrics(), column, false);
      if (lower != null && upper != null) {
        range =
            Expressions.and(
                range,
                Expressions.and(
                    Expressions.greaterThanOrEqual(column.name(), lower),
                    Expressions.lessThanOrEqual(column.name(), upper)));
      }
    }
    return range;
  }

  /** Types whose Parquet statistics are exact values, so bounds from them bound the rows. */
  private static boolean ordered(Type type) {
    return switch (type.typeId()) {
      case INTEGER, LONG, DATE, TIMESTAMP, TIMESTAMP_NANO -> true;
      default -> false;
    };
  }

  /** The lowest (or highest) value of {@code column} over every file, or null if one lacks it. */
  private static Object bound(List<Metrics> files, Types.NestedField column, boolean lower) {
    Comparator<Object> order = Comparators.forType(column.type().asPrimitiveType());
    Object result = null;
    for (Metrics metrics : files) {
      Map<Integer, ByteBuffer> bounds = lower ? metrics.lowerBounds() : metrics.upperBounds();
      ByteBuffer bytes = bounds == null ? null : bounds.get(column.fieldId());
      if (bytes == null) {
        return null;
      }
      Object value = Conversions.fromByteBuffer(column.type(), bytes);
      if (result == null
          || (lower ? order.compare(value, result) < 0 : order.compare(value, result) > 0)) {
        result = value;
      }
    }
    return result;
  }

  /** The put's key columns as a relation aliased {@value #PUT}. */
  private static String putKeys(List<Field> keys, StagedPut put) {
    return "(SELECT "
        + keyList(keys, null)
        + " FROM "
        + RowChanges.readStaged(put.paths(), "quiver_put_rows")
        + ") AS "
        + PUT;
  }

  /** {@code t.k1 = p.k1 AND ...} between the table's rows and the put's keys. */
  private static String keyJoin(List<Field> keys) {
    StringBuilder on = new StringBuilder();
    for (int i = 0; i < keys.size(); i++) {
      String column = SqlText.identifier(keys.get(i).getName());
      on.append(i == 0 ? "" : " AND ").append(TARGET).append('.').append(column);
      on.append(" = ").append(PUT).append('.').append(column);
    }
    return on.toString();
  }

  private static String keyList(List<Field> keys, String qualifier) {
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < keys.size(); i++) {
      list.append(i == 0 ? "" : ", ");
      if (qualifier != null) {
        list.append(qualifier).append('.');
      }
      list.append(SqlText.identifier(keys.get(i).getName()));
    }
    return list.toString();
  }

  /**
   * The query of the rows kept from the rewrite's files, aliased {@value #TARGET}, in the table's
   * columns: {@code rest} (a WHERE or a join) drops the replaced ones. Null when no file keeps
   * rows.
   */
  private static String keep(QuiverTable table, Rewrite rewrite, String rest) {
    if (rewrite.paths().isEmpty()) {
      return null;
    }
    return select(table, TARGET)
        + " FROM "
        + RowChanges.readParquet(table, rewrite.paths(), TARGET, false)
        + rest;
  }

  /** {@code SELECT alias.c1, alias.c2, ...} in the table's columns. */
  private static String select(QuiverTable table, String alias) {
    StringBuilder select = new StringBuilder("SELECT ");
    List<Field> fields = table.arrowSchema().getFields();
    for (int i = 0; i < fields.size(); i++) {
      select.append(i == 0 ? "" : ", ").append(alias).append('.');
      select.append(SqlText.identifier(fields.get(i).getName()));
    }
    return select.toString();
  }

  /** A predicate as readable text: {@code region = 'eu' AND amount > 10}. */
  static String show(Predicate predicate) {
    return switch (predicate.getKindCase()) {
      case COMPARISON -> {
        Comparison c = predicate.getComparison();
        String op =
            switch (c.getOp()) {
              case EQ -> "=";
              case NE -> "<>";
              case LT -> "<";
              case LE -> "<=";
              case GT -> ">";
              case GE -> ">=";
              default -> c.getOp().name();
            };
        Literal value = c.getValue();
        String literal =
            switch (value.getValueCase()) {
              case STRING_VALUE -> "'" + value.getStringValue() + "'";
              case BOOL_VALUE -> String.valueOf(value.getBoolValue());
              case LONG_VALUE -> String.valueOf(value.getLongValue());
              case DOUBLE_VALUE -> String.valueOf(value.getDoubleValue());
              case BINARY_VALUE -> "<" + value.getBinaryValue().size() + " bytes>";
              default -> "?";
            };
        yield c.getColumn() + " " + op + " " + literal;
      }
      case AND -> join(predicate.getAnd().getTermsList(), " AND ");
      case OR -> join(predicate.getOr().getTermsList(), " OR ");
      case NOT -> "NOT " + show(predicate.getNot().getTerm());
      case IS_NULL -> predicate.getIsNull() + " IS NULL";
      case IS_NOT_NULL -> predicate.getIsNotNull() + " IS NOT NULL";
      default -> "?";
    };
  }

  private static String join(List<Predicate> terms, String operator) {
    StringBuilder text = new StringBuilder("(");
    for (int i = 0; i < terms.size(); i++) {
      text.append(i == 0 ? "" : operator).append(show(terms.get(i)));
    }
    return text.append(')').toString();
  }

  /** The filter as readable text: its condition with each placeholder shown as its value. */
  static String show(SqlFilter filter) {
    StringBuilder text = new StringBuilder();
    int next = 0;
    String condition = filter.condition();
    for (int i = 0; i < condition.length(); i++) {
      char c = condition.charAt(i);
      if (c == '?' && next < filter.parameters().size()) {
        Object value = filter.parameters().get(next++);
        text.append(value instanceof CharSequence ? "'" + value + "'" : String.valueOf(value));
      } else {
        text.append(c);
      }
    }
    return text.toString();
  }

  private static PutReceipt withCounts(
      PutReceipt written, String mode, long added, long replaced, long deleted) {
    return new PutReceipt(
        written.rows(),
        written.bytes(),
        written.files(),
        written.snapshotId(),
        mode,
        added,
        replaced,
        deleted);
  }
}
