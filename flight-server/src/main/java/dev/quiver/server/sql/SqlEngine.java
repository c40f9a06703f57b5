package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.ScanShares;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.expressions.Expressions;
import org.duckdb.DuckDBConnection;

/**
 * Quiver's SQL engine: an embedded, in-memory DuckDB whose catalog {@value #CATALOG} holds one
 * schema per namespace and one view per table over the table's current Parquet files ({@link
 * TableBinder}).
 *
 * <p>Every statement runs on a connection of its own ({@code duplicate()}), so statements run in
 * parallel and a cancel stops exactly one. DuckDB's working memory is capped by {@code
 * memory_limit} and spills to the temp folder; result batches are exported into the caller's
 * allocator, so they count against the Arrow budget. The database reads no files outside Quiver's
 * data folder ({@code enable_external_access = false} with {@code allowed_directories}), which
 * DuckDB does not let a running database undo.
 */
@ThreadSafe
public final class SqlEngine implements AutoCloseable {
  /** The one catalog, as JDBC and Flight SQL clients see it. */
  public static final String CATALOG = "quiver";

  /**
   * Makes a connection materialise results instead of streaming them. DuckDB's JDBC driver reports
   * any failure of a streamed result as "Invalid result set"; a materialised one keeps DuckDB's
   * message. Updates run materialised (DuckDB spills what does not fit); a failed query runs once
   * more materialised, to learn why it failed.
   */
  static final String MATERIALIZE = "SET jdbc_stream_results = false";

  /** Rows per batch of the rows an INSERT or CREATE TABLE AS moves to the Parquet writer. */
  static final int WRITE_BATCH_ROWS = 65_536;

  /** The temporary view a query split into shares reads its share from. */
  private static final String SHARE_VIEW = "quiver_share";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The session time zone: zoned timestamps leave DuckDB in it. */
  static final String TIME_ZONE = "UTC";

  private final DuckDBConnection database;
  private final DuckDBConnection views;
  // Where queries import DuckDB's batches before moving them into the call's allocator: outside
  // the memory budget, so an import can never be refused halfway (see SqlQuery.execute).
  private final BufferAllocator imports;
  private final TableBinder binder;
  private final SqlTurns turns;

  /**
   * How DuckDB may use the machine.
   *
   * @param memoryLimitBytes DuckDB's memory_limit, past which it spills
   * @param threads DuckDB worker threads; 0 for one per core
   * @param maxConcurrentQueries the most queries that run at once ({@link SqlTurns})
   * @param admissionQueue the most queries that wait for their turn
   * @param admissionTimeout the longest a query waits for its turn
   * @param tempDirectory where DuckDB spills
   * @param readableDirectories the only folders SQL may read files from: the tables' files (the
   *     data folder, a local warehouse, the read cache of a remote one)
   */
  public record Settings(
      long memoryLimitBytes,
      int threads,
      int maxConcurrentQueries,
      int admissionQueue,
      Duration admissionTimeout,
      Path tempDirectory,
      List<Path> readableDirectories) {
    public Settings {
      requireNonNull(admissionTimeout, "admissionTimeout is null");
      requireNonNull(tempDirectory, "tempDirectory is null");
      readableDirectories = List.copyOf(readableDirectories);
      if (memoryLimitBytes < 1
          || threads < 0
          || maxConcurrentQueries < 1
          || admissionQueue < 0
          || admissionTimeout.isNegative()) {
        throw new IllegalArgumentException(
            String.format(
                "Invalid SQL settings: memory %d, threads %d, queries %d, queue %d, timeout %s",
                memoryLimitBytes, threads, maxConcurrentQueries, admissionQueue, admissionTimeout));
      }
    }
  }

  /**
   * The parameters a statement takes and the columns it returns, known before it runs.
   *
   * @param parameters one field per parameter; a parameter DuckDB cannot type yet is utf8
   * @param results the result columns as far as DuckDB knows them before running
   */
  public record Shape(Schema parameters, Schema results) {
    public Shape {
      requireNonNull(parameters, "parameters is null");
      requireNonNull(results, "results is null");
    }
  }

  /**
   * Everything a query reads, as DuckDB's parser sees it, for access checks: what {@link #reads}
   * returns.
   *
   * @param parsed false when DuckDB could not serialise the statement (then nothing below is known)
   * @param tables the Quiver tables it names (namespace.table, quiver.namespace.table, or an
   *     unqualified name in the default schema)
   * @param ctes the names its WITH clauses define
   * @param others table names that are not Quiver tables: another catalog, an unqualified name with
   *     no default schema, a file path
   * @param functions the table functions it calls (read_parquet, read_csv, ...)
   */
  public record Reads(
      boolean parsed,
      Set<TableId> tables,
      Set<String> ctes,
      Set<String> others,
      Set<String> functions) {
    public Reads {
      tables = Set.copyOf(tables);
      ctes = Set.copyOf(ctes);
      others = Set.copyOf(others);
      functions = Set.copyOf(functions);
    }
  }

  /**
   * What query {@code sql} reads, from DuckDB's parser, without binding or running it; unqualified
   * names resolve in namespace {@code schema} when it is not empty.
   */
  public Reads reads(String sql, String schema) {
    try (DuckDBConnection connection = connect(schema)) {
      return TableBinder.references(connection, sql, schema);
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot parse the statement: %s", e.getMessage());
    }
  }

  /**
   * An Iceberg expression every row matching SQL {@code condition} matches ({@link WherePruning}),
   * over {@code schema}'s columns; {@code true} when nothing of it translates.
   */
  org.apache.iceberg.expressions.Expression pruning(
      String condition, org.apache.iceberg.Schema schema) {
    try (DuckDBConnection connection = connect("")) {
      return WherePruning.of(connection, condition, schema);
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot parse the condition: %s", e.getMessage());
    }
  }

  private SqlEngine(
      DuckDBConnection database,
      DuckDBConnection views,
      TableBinder binder,
      BufferAllocator imports,
      SqlTurns turns) {
    this.imports = imports;
    this.turns = turns;
    this.database = database;
    this.views = views;
    this.binder = binder;
  }

  /**
   * Starts DuckDB for {@code store}'s tables; the caller closes the engine before the store.
   * Queries import DuckDB's batches under {@code imports}, an allocator without a limit (the
   * server's is {@link dev.quiver.server.memory.MemoryGovernor#newImportAllocator}), which the
   * engine owns from here and closes.
   */
  public static SqlEngine open(
      IcebergTableStore store, Settings settings, BufferAllocator imports) {
    return open(
        store,
        settings,
        imports,
        new AdmissionQueue(settings.admissionQueue(), settings.admissionTimeout()));
  }

  /**
   * As {@link #open(IcebergTableStore, Settings, BufferAllocator)}, with queries waiting for their
   * turn in {@code line}, the server's one admission queue (whose bound and deadline apply instead
   * of the settings' admission queue and timeout).
   */
  public static SqlEngine open(
      IcebergTableStore store, Settings settings, BufferAllocator imports, AdmissionQueue line) {
    Properties properties = new Properties();
    // Without it DuckDB's JDBC driver materialises whole results before the first row.
    properties.setProperty("jdbc_stream_results", "true");
    DuckDBConnection database = null;
    try {
      database = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:", properties);
      try (Statement statement = database.createStatement()) {
        if (settings.threads() > 0) {
          statement.execute("SET GLOBAL threads = " + settings.threads());
        }
        statement.execute("SET GLOBAL memory_limit = '" + settings.memoryLimitBytes() + "B'");
        statement.execute(
            "SET GLOBAL temp_directory = "
                + SqlText.literal(settings.tempDirectory().toAbsolutePath().toString()));
        statement.execute("SET GLOBAL TimeZone = " + SqlText.literal(TIME_ZONE));
        statement.execute("SET GLOBAL autoinstall_known_extensions = false");
        statement.execute("SET GLOBAL autoload_known_extensions = false");
        statement.execute("ATTACH ':memory:' AS " + CATALOG);
        List<String> readable = new ArrayList<>();
        for (Path dir : settings.readableDirectories()) {
          readable.add(SqlText.literal(dir.toAbsolutePath().normalize() + "/"));
        }
        statement.execute("SET GLOBAL allowed_directories = [" + String.join(", ", readable) + "]");
        // DuckDB refuses to enable external access again while it runs; Quiver's SQL refuses SET
        // and every other statement but queries and its own updates anyway.
        statement.execute("SET GLOBAL enable_external_access = false");
      }
      DuckDBConnection views = database.duplicate();
      SqlTurns turns = new SqlTurns(settings.maxConcurrentQueries(), line);
      return new SqlEngine(database, views, new TableBinder(store, views), imports, turns);
    } catch (SQLException e) {
      closeQuietly(database);
      closeQuietly(imports);
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot start DuckDB for SQL: %s", e.getMessage());
    }
  }

  /**
   * Refuses a statement Quiver does not run: INVALID_SQL with DuckDB's message when DuckDB cannot
   * parse it, else UNSUPPORTED_OPERATION naming what Quiver's SQL does run.
   */
  public QuiverException unsupported(String sql) {
    try (DuckDBConnection connection = connect("")) {
      com.fasterxml.jackson.databind.JsonNode tree = TableBinder.parse(connection, sql);
      if (tree != null
          && tree.path("error").asBoolean(false)
          && "parser".equals(tree.path("error_type").asText())) {
        return new QuiverException(
            QuiverErrorCode.INVALID_SQL, "Parser Error: %s", tree.path("error_message").asText());
      }
    } catch (SQLException e) {
      // Closing a connection that was only read from; the refusal below still holds.
    }
    return new QuiverException(
        QuiverErrorCode.UNSUPPORTED_OPERATION,
        "Quiver's SQL runs queries, CREATE TABLE, DROP TABLE, INSERT INTO, DELETE, UPDATE, MERGE"
            + " INTO and ALTER TABLE; '%s' is not supported",
        sql.strip().length() > 80 ? sql.strip().substring(0, 80) + "..." : sql.strip());
  }

  /**
   * What {@code sql} takes and returns, without running it; a parameter DuckDB cannot type yet is
   * utf8.
   */
  public Shape describe(String sql, String schema) {
    try (SqlQuery query = prepare(sql, schema, List.of(), Map.of(), List.of()).zonesInUtc()) {
      return withTypes(query.shape(), List.of());
    } catch (QuiverException e) {
      throw e;
    } catch (Exception e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot describe the statement: %s", e.getMessage());
    }
  }

  /**
   * The shape of {@code sql} with parameters DuckDB cannot type as Arrow's Null type; {@code
   * targetTables} as for {@link #prepare(String, String, List, Map, String)}.
   */
  Shape describeUntyped(String sql, String schema, Map<TableId, QuiverTable> targetTables) {
    try (SqlQuery query = prepare(sql, schema, List.of(), targetTables, List.of())) {
      return query.shape();
    } catch (QuiverException e) {
      throw e;
    } catch (Exception e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot describe the statement: %s", e.getMessage());
    }
  }

  /**
   * A query ready to {@link SqlQuery#execute}: its tables bound to their current snapshots, its
   * parameters ({@code parameters}, JDBC values; may be fewer than it takes) set. Unqualified table
   * names are looked up in namespace {@code schema} when it is not empty.
   */
  public SqlQuery prepare(String sql, String schema, List<Object> parameters) {
    return prepare(sql, schema, parameters, Map.of(), List.of()).zonesInUtc();
  }

  /**
   * As {@link #prepare(String, String, List)}, also conforming result columns to {@code
   * targetTables} (the table an INSERT writes) and running {@code setupSql} on the query's
   * connection first (a temporary table a CREATE TABLE describes its columns with, {@link
   * #MATERIALIZE}).
   */
  SqlQuery prepare(
      String sql,
      String schema,
      List<Object> parameters,
      Map<TableId, QuiverTable> targetTables,
      List<String> setupSql) {
    requireNonNull(sql, "sql is null");
    DuckDBConnection connection = connect(schema);
    PreparedStatement statement = null;
    List<LocalFiles> pins = new ArrayList<>();
    try {
      try (Statement setup = connection.createStatement()) {
        for (String setupStatement : setupSql) {
          setup.execute(setupStatement);
        }
      }
      Map<TableId, QuiverTable> tables = new java.util.LinkedHashMap<>(targetTables);
      tables.putAll(binder.bind(connection, sql, schema, pins));
      statement = connection.prepareStatement(sql);
      bind(statement, parameters);
      SqlQuery query = new SqlQuery(connection, sql, parameters, statement, tables, imports, turns);
      query.holdUntilClosed(pins);
      return query;
    } catch (SQLException | RuntimeException e) {
      throw failed(e, statement, connection, pins);
    }
  }

  /**
   * The one table {@code sql} reads, as bound now, when the query may be split into shares of that
   * table's files ({@link QuerySplit}): a SELECT of one table computed row by row. Empty for any
   * other query, which runs whole; a query DuckDB cannot plan is empty too and reports its own
   * error when it runs.
   */
  public Optional<QuiverTable> splittableTable(String sql, String schema) {
    requireNonNull(sql, "sql is null");
    List<LocalFiles> pins = new ArrayList<>();
    try (DuckDBConnection connection = connect(schema)) {
      if (!QuerySplit.isSingleTableSelect(TableBinder.parse(connection, sql))) {
        return Optional.empty();
      }
      Map<TableId, QuiverTable> tables = binder.bind(connection, sql, schema, pins);
      if (tables.size() != 1 || !QuerySplit.isRowByRowScan(explain(connection, sql))) {
        return Optional.empty();
      }
      return Optional.of(tables.values().iterator().next());
    } catch (SQLException | IOException e) {
      return Optional.empty();
    } finally {
      pins.forEach(LocalFiles::close);
    }
  }

  /**
   * As {@link #prepare(String, String, List)} for one share of a query {@link #splittableTable}
   * accepted: {@code sql} reads, in place of its table, a temporary view of the share's files of
   * the share's snapshot. Refuses (INVALID_TICKET) a share whose table is not the one {@code sql}
   * names, so a ticket cannot read a table its SQL does not name.
   */
  public SqlQuery prepareShare(String sql, String schema, TableShare share) {
    requireNonNull(sql, "sql is null");
    DuckDBConnection connection = connect(schema);
    PreparedStatement statement = null;
    List<LocalFiles> pins = new ArrayList<>();
    try {
      JsonNode tree = TableBinder.parse(connection, sql);
      if (!QuerySplit.isSingleTableSelect(tree)
          || !TableBinder.referencedTables(connection, sql, schema)
              .equals(List.of(share.table()))) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_TICKET,
            "The ticket's share of table %s does not belong to its query",
            share.table());
      }
      QuiverTable table = binder.load(share.table());
      List<ScanFile> files =
          share.snapshotId() == 0
              ? List.of()
              : table.files(share.snapshotId(), Expressions.alwaysTrue());
      List<ScanFile> mine = ScanShares.share(files, share.index(), share.count());
      try (Statement setup = connection.createStatement()) {
        setup.execute("CREATE TEMP VIEW " + SHARE_VIEW + " AS " + binder.select(table, mine, pins));
      }
      String rewritten = deserialize(connection, QuerySplit.retarget(tree, SHARE_VIEW));
      statement = connection.prepareStatement(rewritten);
      SqlQuery query =
          new SqlQuery(
              connection,
              rewritten,
              List.of(),
              statement,
              Map.of(share.table(), table),
              imports,
              turns);
      query.holdUntilClosed(pins);
      return query.zonesInUtc();
    } catch (SQLException | RuntimeException e) {
      throw failed(e, statement, connection, pins);
    }
  }

  /**
   * What a failed prepare throws, once it has closed what it opened: DuckDB's error as a
   * QuiverException, anything else as it is.
   */
  private static RuntimeException failed(
      Exception e,
      PreparedStatement statement,
      DuckDBConnection connection,
      List<LocalFiles> pins) {
    closeQuietly(statement);
    closeQuietly(connection);
    pins.forEach(LocalFiles::close);
    return e instanceof SQLException failure
        ? SqlErrors.from(failure, false)
        : (RuntimeException) e;
  }

  /** DuckDB's physical plan of {@code sql}, as JSON. */
  private static JsonNode explain(DuckDBConnection connection, String sql)
      throws SQLException, IOException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("EXPLAIN (FORMAT JSON) " + sql)) {
      return result.next() ? JSON.readTree(result.getString(2)) : null;
    }
  }

  /** The SQL text of a parse tree ({@code json_deserialize_sql}). */
  private static String deserialize(DuckDBConnection connection, JsonNode tree)
      throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT json_deserialize_sql(?::JSON)")) {
      statement.setString(1, tree.toString());
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        return result.getString(1);
      }
    }
  }

  /** Statements run on a query's connection before it is prepared (a MERGE into a temp table). */
  interface Setup {
    void run(Statement statement) throws SQLException;
  }

  /**
   * As {@link #prepare(String, String, List)} without parameters, running {@code setup} on the
   * query's connection first, once the Quiver tables named in {@code sql} and in {@code reads} (a
   * query naming the tables the setup reads) are bound.
   */
  SqlQuery prepareAfter(String sql, String schema, String reads, Setup setup) {
    requireNonNull(sql, "sql is null");
    DuckDBConnection connection = connect(schema);
    PreparedStatement statement = null;
    List<LocalFiles> pins = new ArrayList<>();
    try {
      Map<TableId, QuiverTable> tables = new java.util.LinkedHashMap<>();
      tables.putAll(binder.bind(connection, reads, schema, pins));
      tables.putAll(binder.bind(connection, sql, schema, pins));
      try (Statement run = connection.createStatement()) {
        run.execute(MATERIALIZE); // keeps DuckDB's message should the setup fail
        setup.run(run);
        run.execute("SET jdbc_stream_results = true"); // the query itself streams
      }
      statement = connection.prepareStatement(sql);
      SqlQuery query = new SqlQuery(connection, sql, List.of(), statement, tables, imports, turns);
      query.holdUntilClosed(pins);
      return query;
    } catch (SQLException | RuntimeException e) {
      closeQuietly(statement);
      closeQuietly(connection);
      pins.forEach(LocalFiles::close);
      if (e instanceof SQLException failure) {
        throw SqlErrors.from(failure, false);
      }
      throw (RuntimeException) e;
    }
  }

  /**
   * A query over Parquet files named in {@code sql} itself (a DoGet table scan, {@link
   * SqlTableScan}): no table to bind, so no view is touched; {@code parameters} are JDBC values.
   */
  SqlQuery prepareScan(String sql, List<Object> parameters) {
    requireNonNull(sql, "sql is null");
    DuckDBConnection connection = connect("");
    PreparedStatement statement = null;
    try {
      statement = connection.prepareStatement(sql);
      bind(statement, parameters);
      return new SqlQuery(connection, sql, parameters, statement, Map.of(), imports, turns);
    } catch (SQLException e) {
      closeQuietly(statement);
      closeQuietly(connection);
      throw SqlErrors.from(e, false);
    }
  }

  /**
   * A query over {@code rows}, an exported Arrow stream registered as view {@code view} on the
   * query's own connection, run materialised (so a failed cast keeps DuckDB's message). Result
   * columns are conformed to {@code targetTables} as for {@link #prepare(String, String, List, Map,
   * List)}. The caller keeps {@code rows} and releases it after closing the query.
   */
  SqlQuery prepareOver(
      String sql, String view, ArrowArrayStream rows, Map<TableId, QuiverTable> targetTables) {
    requireNonNull(sql, "sql is null");
    DuckDBConnection connection = connect("");
    PreparedStatement statement = null;
    try {
      try (Statement setup = connection.createStatement()) {
        setup.execute(MATERIALIZE);
      }
      connection.registerArrowStream(view, rows);
      statement = connection.prepareStatement(sql);
      return new SqlQuery(connection, sql, List.of(), statement, targetTables, imports, turns);
    } catch (SQLException e) {
      closeQuietly(statement);
      closeQuietly(connection);
      throw SqlErrors.from(e, false);
    }
  }

  /** Sets {@code parameters} (JDBC values) on {@code statement}, in order. */
  static void bind(PreparedStatement statement, List<Object> parameters) throws SQLException {
    for (int i = 0; i < parameters.size(); i++) {
      statement.setObject(i + 1, parameters.get(i));
    }
  }

  private DuckDBConnection connect(String schema) {
    DuckDBConnection connection = null;
    try {
      synchronized (database) {
        connection = database.duplicate();
      }
      try (Statement statement = connection.createStatement()) {
        if (schema != null && !schema.isEmpty()) {
          binder.ensureSchema(schema);
          statement.execute("USE " + CATALOG + "." + SqlText.identifier(schema));
        } else {
          statement.execute("USE " + CATALOG);
        }
      }
      return connection;
    } catch (SQLException e) {
      closeQuietly(connection);
      QuiverException outOfMemory = SqlErrors.outOfMemoryIn(e);
      if (outOfMemory != null) {
        throw outOfMemory;
      }
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot open a DuckDB connection: %s", e.getMessage());
    }
  }

  /**
   * {@code shape} with each untyped parameter given the type at its position in {@code types} when
   * there are as many types as parameters, else utf8 (the JDBC driver binds any value as text to a
   * utf8 parameter only if it is a string, so a guess is better than Null).
   */
  static Shape withTypes(Shape shape, List<ArrowType> types) {
    List<Field> parameters = new ArrayList<>();
    List<Field> fields = shape.parameters().getFields();
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      if (field.getType() instanceof ArrowType.Null) {
        ArrowType type = types.size() == fields.size() ? types.get(i) : ArrowType.Utf8.INSTANCE;
        field = Field.nullable(field.getName(), type);
      }
      parameters.add(field);
    }
    return new Shape(new Schema(parameters), shape.results());
  }

  /** The shape of a prepared DuckDB statement, as far as DuckDB knows it. */
  static Shape shapeOf(PreparedStatement statement) throws SQLException {
    List<Field> parameters = new ArrayList<>();
    ParameterMetaData parameterData = statement.getParameterMetaData();
    for (int i = 1; i <= parameterData.getParameterCount(); i++) {
      ArrowType type = DuckDbTypes.arrowType(parameterData.getParameterTypeName(i));
      parameters.add(
          Field.nullable("parameter_" + i, type == null ? ArrowType.Null.INSTANCE : type));
    }
    List<Field> results = new ArrayList<>();
    ResultSetMetaData resultData = statement.getMetaData();
    for (int i = 1; resultData != null && i <= resultData.getColumnCount(); i++) {
      ArrowType type = DuckDbTypes.arrowType(resultData.getColumnTypeName(i));
      results.add(
          Field.nullable(
              resultData.getColumnName(i), type == null ? ArrowType.Utf8.INSTANCE : type));
    }
    return new Shape(new Schema(parameters), new Schema(results));
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      // Closing after a failure; the failure is what the caller reports.
    }
  }

  /**
   * Arrow memory in queries' imports from DuckDB right now (for the memory report): at most a batch
   * per running query, between its import and its transfer into the call's allocator.
   */
  public long importedBytes() {
    return imports.getAllocatedMemory();
  }

  /** How many queries run and wait now ({@link SqlTurns}). */
  public SqlTurns.Status admission() {
    return turns.status();
  }

  /** The engine's turns, for a call that takes one together with its memory. */
  public SqlTurns turns() {
    return turns;
  }

  /** Closes DuckDB; queries still running fail. A second call does nothing. */
  @Override
  public void close() {
    synchronized (database) {
      closeQuietly(views);
      closeQuietly(database);
      closeQuietly(imports);
    }
  }
}
