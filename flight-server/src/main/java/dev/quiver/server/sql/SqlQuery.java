package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.QuiverTable;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.duckdb.DuckDBConnection;
import org.duckdb.DuckDBResultSet;

/**
 * One query on its own DuckDB connection: bound to its tables' snapshots and to its parameters,
 * then run with {@link #execute}, its rows read batch by batch as Arrow from DuckDB.
 *
 * <p>{@link #cancel()} may be called from any thread, at any time: before {@link #execute} it makes
 * execute fail, during it (DuckDB may compute a whole aggregate before the first row) it interrupts
 * DuckDB, and while rows stream it stops them. Everything else is for one thread. {@link #close()}
 * frees the connection, DuckDB's result and the Arrow batches.
 */
public final class SqlQuery implements AutoCloseable {
  private final DuckDBConnection connection;
  private final String sql;
  private final List<Object> parameters;
  private volatile PreparedStatement statement;
  private final Map<TableId, QuiverTable> tables;
  private volatile boolean cancelled;
  private DuckDBResultSet result;
  private ArrowReader reader;
  private ResultConformer conformer;
  private VectorSchemaRoot exported;
  private final BufferAllocator imports;
  private final SqlTurns turns;
  // The turn this query took itself (and gives back when closed); null when it runs in its
  // caller's.
  private volatile SqlTurns.Turn ownTurn;
  // The read cache's pins of the files the query's views read; released once DuckDB is closed.
  private List<? extends AutoCloseable> pins = List.of();
  // Results go to a SQL client: zoned timestamps name UTC (see ResultConformer).
  private boolean zonesInUtc;

  SqlQuery(
      DuckDBConnection connection,
      String sql,
      List<Object> parameters,
      PreparedStatement statement,
      Map<TableId, QuiverTable> tables,
      BufferAllocator imports,
      SqlTurns turns) {
    this.connection = connection;
    this.imports = imports;
    this.turns = turns;
    this.sql = sql;
    // Not List.copyOf: SQL NULL is a fine parameter.
    this.parameters = Collections.unmodifiableList(new ArrayList<>(parameters));
    this.statement = statement;
    this.tables = Map.copyOf(tables);
  }

  /** Keeps {@code files} (pinned cache copies the query reads) until the query is closed. */
  void holdUntilClosed(List<? extends AutoCloseable> files) {
    this.pins = List.copyOf(files);
  }

  /** Serves zoned timestamps in zone UTC, as SQL clients get them; call before {@link #execute}. */
  SqlQuery zonesInUtc() {
    this.zonesInUtc = true;
    return this;
  }

  /** The Quiver tables the query reads, as pinned. */
  public Map<TableId, QuiverTable> tables() {
    return tables;
  }

  /** What the statement takes and returns, as far as DuckDB knows before running it. */
  SqlEngine.Shape shape() throws SQLException {
    SqlEngine.Shape shape = SqlEngine.shapeOf(statement);
    return new SqlEngine.Shape(
        shape.parameters(), ResultConformer.restoredSchema(shape.results(), tables, zonesInUtc));
  }

  /**
   * Runs the query; its batches of up to {@code batchRows} rows end up in {@code allocator}, which
   * must share the engine's root and outlive this query.
   *
   * <p>Each batch is imported from DuckDB into the engine's import allocator, which never refuses,
   * and its buffers are then transferred to {@code allocator} (no copy). Arrow Java 18.3's C Data
   * import leaks when an allocator refuses it halfway through a batch (the imported array's
   * 128-byte struct and DuckDB's batch are never released); a transfer is never refused, so callers
   * check their limits on {@code allocator} after each batch. The batch goes back to DuckDB when
   * {@link #root()} is refilled or closed.
   *
   * <p>First waits for its turn to run ({@link SqlTurns}), which it keeps until closed.
   *
   * @throws QuiverException SERVER_MEMORY_EXHAUSTED when the SQL engine is too busy to admit it
   */
  public void execute(BufferAllocator allocator, int batchRows) {
    checkNotCancelled();
    ownTurn = turns.take(allocator.getName(), () -> cancelled);
    run(allocator, batchRows);
  }

  /**
   * As {@link #execute(BufferAllocator, int)}, in {@code turn}, which the caller took (with its
   * memory, in one wait) and gives back after closing this query.
   */
  public void execute(BufferAllocator allocator, int batchRows, SqlTurns.Turn turn) {
    requireNonNull(turn, "turn is null");
    checkNotCancelled();
    run(allocator, batchRows);
  }

  private void run(BufferAllocator allocator, int batchRows) {
    try {
      result = executeQuery();
      checkNotCancelled();
      // Straight into the engine's import allocator, not a child of the query's: an imported
      // batch's C struct goes back only when its last buffer does, which may be after this query
      // closes (a scan's conformer holds the batch until it is closed).
      reader = (ArrowReader) result.arrowExportStream(imports, batchRows);
      exported = reader.getVectorSchemaRoot();
      conformer = ResultConformer.create(allocator, exported.getSchema(), tables, zonesInUtc);
    } catch (SQLException e) {
      throw SqlErrors.from(e, cancelled);
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot read the SQL result: %s", e.getMessage());
    }
  }

  /** The root each {@link #next()} fills; the same object for the whole query. */
  public VectorSchemaRoot root() {
    return conformer.root();
  }

  /** The dictionaries of dictionary-encoded result columns. */
  public DictionaryProvider dictionaries() {
    return reader;
  }

  /**
   * Loads the next batch into {@link #root()}; false at the end.
   *
   * @throws QuiverException CANCELLED when the query was cancelled
   */
  public boolean next() throws IOException {
    checkNotCancelled();
    boolean loaded;
    try {
      loaded = reader.loadNextBatch();
    } catch (IOException | RuntimeException e) {
      if (cancelled) {
        throw new QuiverException(QuiverErrorCode.CANCELLED, e, "The SQL query was cancelled");
      }
      QuiverException outOfMemory = SqlErrors.outOfMemoryIn(e);
      if (outOfMemory != null) {
        throw outOfMemory;
      }
      throw e;
    }
    // DuckDB ends a stream it was told to interrupt as if it were complete.
    checkNotCancelled();
    if (loaded) {
      conformer.conform(exported);
      exported.clear(); // a converted column's import goes back to DuckDB now
    }
    return loaded;
  }

  private DuckDBResultSet executeQuery() throws SQLException {
    try {
      return (DuckDBResultSet) statement.executeQuery();
    } catch (SQLException streamed) {
      if (cancelled || !String.valueOf(streamed.getMessage()).contains("Invalid result set")) {
        throw streamed;
      }
      // A streamed result loses DuckDB's message (and closes the statement); run it once more,
      // materialised, to get the message.
      try (Statement materialize = connection.createStatement()) {
        materialize.execute(SqlEngine.MATERIALIZE);
      }
      statement.close();
      statement = connection.prepareStatement(sql);
      SqlEngine.bind(statement, parameters);
      return (DuckDBResultSet) statement.executeQuery();
    }
  }

  /** Stops the query; harmless after it ended or when called twice. */
  public void cancel() {
    cancelled = true;
    turns.wake();
    try {
      statement.cancel();
    } catch (SQLException e) {
      // Already finished or closed: nothing left to stop.
    }
  }

  public boolean isCancelled() {
    return cancelled;
  }

  private void checkNotCancelled() {
    if (cancelled) {
      throw new QuiverException(QuiverErrorCode.CANCELLED, "The SQL query was cancelled");
    }
  }

  @Override
  public void close() throws Exception {
    // The turn goes back last, once DuckDB has freed the query's buffers.
    AutoCloseables.close(
        reader,
        conformer,
        result,
        statement,
        connection,
        () -> AutoCloseables.close(pins),
        ownTurn);
  }
}
