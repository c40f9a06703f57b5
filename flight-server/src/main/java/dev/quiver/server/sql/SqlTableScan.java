package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.filter.SqlFilter;
import dev.quiver.server.table.parquet.ReadConformer;
import dev.quiver.server.table.parquet.ReadDictionaries;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Streams the rows of some Parquet data files through the SQL engine's DuckDB, pulled one batch at
 * a time, with projection, a filter and a row limit, conformed to the table's exact Arrow types.
 *
 * <p>This is how DoGet reads tables: DuckDB's streaming result computes a batch when it is asked
 * for one, so a scan holds about one batch of Arrow memory (plus DuckDB's own working memory, under
 * its {@code memory_limit}) however slowly the client reads. arrow-dataset's scanner, by contrast,
 * decodes ahead of the reader without a byte bound. Rows come in file order, then row order
 * (DuckDB's {@code preserve_insertion_order}), as the limit requires.
 *
 * <p>Dictionary-encoded columns cost a first pass over just those columns: Flight sends
 * dictionaries once, when the stream starts, so every value must be known before the first batch.
 *
 * <p>Batches are imported from DuckDB into an allocator of the engine's that never refuses, then
 * transferred (not copied) into the caller's allocator (see {@link SqlQuery#execute}): a refused C
 * Data import would leak, so the caller's limit is checked after each batch instead. The import
 * allocator holds a batch only inside {@link #next()}, outside the Arrow budget.
 *
 * <p>Not thread-safe: one thread calls {@link #next()} and reads {@link #root()}. The root is owned
 * by the scan and refilled by each {@code next()}; close the scan to release everything.
 */
public final class SqlTableScan implements AutoCloseable {
  private final ReadDictionaries dictionaries;
  private final ReadConformer conformer;
  private final SqlQuery query;
  private final long limit;
  private long rows;

  private SqlTableScan(
      ReadDictionaries dictionaries, ReadConformer conformer, SqlQuery query, long limit) {
    this.dictionaries = dictionaries;
    this.conformer = conformer;
    this.query = query;
    this.limit = limit;
  }

  /**
   * Opens a scan: {@code files} in the order to read, {@code projectedSchema} the table's columns
   * to return (message format), {@code filter} null for none, {@code limit} negative for none.
   * Batches of up to {@code batchRows} rows are allocated from {@code allocator}.
   */
  public static SqlTableScan open(
      SqlEngine engine,
      BufferAllocator allocator,
      List<Path> files,
      Schema projectedSchema,
      SqlFilter filter,
      long limit,
      int batchRows)
      throws Exception {
    return open(engine, allocator, null, files, projectedSchema, filter, limit, batchRows);
  }

  /**
   * As {@link #open(SqlEngine, BufferAllocator, List, Schema, SqlFilter, long, int)}, running its
   * queries in {@code turn}, which the caller took with its memory and gives back after closing the
   * scan; null for queries that each take a turn of their own.
   */
  public static SqlTableScan open(
      SqlEngine engine,
      BufferAllocator allocator,
      SqlTurns.Turn turn,
      List<Path> files,
      Schema projectedSchema,
      SqlFilter filter,
      long limit,
      int batchRows)
      throws Exception {
    return open(
        engine,
        allocator,
        turn,
        files.isEmpty() ? null : ScanRelation.of(files),
        projectedSchema,
        filter,
        limit,
        batchRows);
  }

  /**
   * Opens a scan of {@code files}' data files with the Iceberg deletes that apply to them removed
   * (see {@link ScanRelation}), rows in file order then row order; otherwise as {@link
   * #open(SqlEngine, BufferAllocator, SqlTurns.Turn, List, Schema, SqlFilter, long, int)}. The
   * files are {@code table}'s, their columns found by field id once its schema has changed ({@link
   * FieldIdColumns}). The caller keeps {@code files} open until the scan is closed.
   */
  public static SqlTableScan open(
      SqlEngine engine,
      BufferAllocator allocator,
      SqlTurns.Turn turn,
      QuiverTable table,
      LocalFiles files,
      Schema projectedSchema,
      SqlFilter filter,
      long limit,
      int batchRows)
      throws Exception {
    return open(
        engine,
        allocator,
        turn,
        files.files().isEmpty() ? null : ScanRelation.of(files, FieldIdColumns.of(table)),
        projectedSchema,
        filter,
        limit,
        batchRows);
  }

  /** {@code relation}: what to read, null for nothing. */
  private static SqlTableScan open(
      SqlEngine engine,
      BufferAllocator allocator,
      SqlTurns.Turn turn,
      String relation,
      Schema projectedSchema,
      SqlFilter filter,
      long limit,
      int batchRows)
      throws Exception {
    requireNonNull(projectedSchema, "projectedSchema is null");
    boolean empty = relation == null || limit == 0;
    List<String> dictionaryColumns =
        projectedSchema.getFields().stream()
            .filter(f -> f.getDictionary() != null)
            .map(Field::getName)
            .toList();
    List<String> columns = projectedSchema.getFields().stream().map(Field::getName).toList();
    ReadDictionaries dicts = null;
    ReadConformer conform = null;
    SqlQuery query = null;
    try {
      if (!dictionaryColumns.isEmpty()) {
        dicts = new ReadDictionaries(allocator, projectedSchema);
        if (!empty) {
          collect(
              engine,
              allocator,
              turn,
              dicts,
              relation,
              dictionaryColumns,
              filter,
              limit,
              batchRows);
        }
        dicts.finish();
        conform = new ReadConformer(allocator, projectedSchema, dicts);
      } else {
        conform = new ReadConformer(allocator, projectedSchema);
      }
      if (!empty) {
        query = run(engine, allocator, turn, relation, columns, filter, limit, batchRows);
      }
      return new SqlTableScan(dicts, conform, query, limit);
    } catch (Exception e) {
      try {
        AutoCloseables.close(query, conform, dicts);
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * A scan over {@code query}, prepared but not yet run, whose result columns are {@code
   * projectedSchema}'s in order (a copy-on-write rewrite's SELECT): run here in a turn of its own,
   * with batches of up to {@code batchRows} rows. No column may be dictionary-encoded. The scan
   * owns the query from here, on every path.
   */
  static SqlTableScan over(
      SqlQuery query, BufferAllocator allocator, Schema projectedSchema, int batchRows)
      throws Exception {
    ReadConformer conform = null;
    try {
      conform = new ReadConformer(allocator, projectedSchema);
      query.execute(allocator, batchRows);
      return new SqlTableScan(null, conform, query, -1);
    } catch (Exception e) {
      try {
        AutoCloseables.close(query, conform);
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static void collect(
      SqlEngine engine,
      BufferAllocator allocator,
      SqlTurns.Turn turn,
      ReadDictionaries dictionaries,
      String relation,
      List<String> columns,
      SqlFilter filter,
      long limit,
      int batchRows)
      throws Exception {
    try (SqlQuery pass =
        run(engine, allocator, turn, relation, columns, filter, limit, batchRows)) {
      while (pass.next()) {
        dictionaries.collect(pass.root());
      }
    }
  }

  private static SqlQuery run(
      SqlEngine engine,
      BufferAllocator allocator,
      SqlTurns.Turn turn,
      String relation,
      List<String> columns,
      SqlFilter filter,
      long limit,
      int batchRows) {
    List<Object> parameters = new ArrayList<>();
    String sql = select(relation, columns, filter, limit, parameters);
    SqlQuery query = engine.prepareScan(sql, parameters);
    try {
      if (turn == null) {
        query.execute(allocator, batchRows);
      } else {
        query.execute(allocator, batchRows, turn);
      }
      return query;
    } catch (RuntimeException e) {
      try {
        query.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * The scan as DuckDB SQL: quoted column names, the relation of {@link ScanRelation} (file paths
   * as string literals: they are the table's own files, never client text), the filter's values as
   * parameters appended to {@code parameters}.
   */
  static String select(
      String relation,
      List<String> columns,
      SqlFilter filter,
      long limit,
      List<Object> parameters) {
    StringBuilder sql = new StringBuilder("SELECT ");
    for (int i = 0; i < columns.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append(SqlText.identifier(columns.get(i)));
    }
    sql.append(" FROM ").append(relation);
    if (filter != null) {
      sql.append(" WHERE ").append(filter.condition());
      parameters.addAll(filter.parameters());
    }
    if (limit >= 0) {
      sql.append(" LIMIT ").append(limit);
    }
    return sql.toString();
  }

  /** The root holding the current batch; the same object for the whole scan. */
  public VectorSchemaRoot root() {
    return conformer.root();
  }

  /** The dictionaries of dictionary-encoded columns, to send when the stream starts. */
  public DictionaryProvider dictionaries() {
    return dictionaries == null ? new DictionaryProvider.MapDictionaryProvider() : dictionaries;
  }

  /** Loads the next non-empty batch into {@link #root()}; false at the end or at the limit. */
  public boolean next() throws Exception {
    if (query == null || (limit >= 0 && rows >= limit)) {
      return false;
    }
    while (query.next()) {
      VectorSchemaRoot scanned = query.root();
      if (scanned.getRowCount() == 0) {
        continue;
      }
      VectorSchemaRoot out = conformer.conform(scanned);
      rows += out.getRowCount();
      return true;
    }
    return false;
  }

  /** Rows returned so far. */
  public long rows() {
    return rows;
  }

  /** Stops DuckDB from any thread; the next {@link #next()} fails CANCELLED. */
  public void cancel() {
    if (query != null) {
      query.cancel();
    }
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(query, conformer, dictionaries);
  }
}
