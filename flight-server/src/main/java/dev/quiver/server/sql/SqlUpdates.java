package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.TableTransaction;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * SQL statements that change tables: CREATE TABLE (columns, or AS a query), DROP TABLE, INSERT INTO
 * (VALUES or a query), DELETE and UPDATE ({@link RowChanges}), MERGE INTO ({@link MergeInto}) and
 * ALTER TABLE ({@link AlterTable}), each through the table layer like DoPut: an INSERT, CREATE
 * TABLE AS, DELETE, UPDATE, MERGE or ALTER TABLE is one atomic Iceberg commit, and a statement that
 * fails commits nothing.
 *
 * <p>Only the statement's frame is read here (the keywords and the table's name); the columns,
 * values and queries are DuckDB's to parse. Thread-safe.
 */
public final class SqlUpdates {
  private static final String NEW_TABLE = "quiver_new_table";

  private final SqlEngine engine;
  private final IcebergTableStore store;
  private final Optional<TableTransaction> transaction;
  private final RowChanges rowChanges;
  private final MergeInto merges;
  private final AlterTable alters;

  public SqlUpdates(SqlEngine engine, IcebergTableStore store) {
    this(engine, store, Optional.empty());
  }

  private SqlUpdates(
      SqlEngine engine, IcebergTableStore store, Optional<TableTransaction> transaction) {
    this.engine = requireNonNull(engine, "engine is null");
    this.store = requireNonNull(store, "store is null");
    this.transaction = requireNonNull(transaction, "transaction is null");
    this.rowChanges = new RowChanges(engine, store, this::target);
    this.merges = new MergeInto(engine, store, this::target);
    this.alters = new AlterTable(engine, store);
  }

  /**
   * These updates inside {@code transaction}: what they change is staged with it ({@link
   * TableTransaction#stage}) instead of committed, and CREATE TABLE, DROP TABLE and ALTER TABLE are
   * refused (UNSUPPORTED_OPERATION: they commit alone).
   */
  public SqlUpdates within(TableTransaction transaction) {
    return new SqlUpdates(engine, store, Optional.of(transaction));
  }

  /** The table a statement changes: as loaded now, or as its transaction stages it. */
  public QuiverTable target(TableId id) {
    return transaction.isPresent() ? transaction.get().stage(id) : store.load(id);
  }

  /**
   * The tables update {@code sql} reads besides its target's own rows (in an INSERT's source, the
   * subqueries of a DELETE's or UPDATE's condition and values, a MERGE's source), for a transaction
   * to refuse reads of the tables it changed.
   */
  public java.util.Set<TableId> otherReads(String sql, String schema) {
    return otherReadsQuery(sql, schema)
        .map(q -> engine.reads(q, schema).tables())
        .orElse(java.util.Set.of());
  }

  private Optional<String> otherReadsQuery(String sql, String schema) {
    String text = stripSemicolons(sql);
    return switch (StatementKind.of(text)) {
      case INSERT ->
          BoundInsert.Frame.parse(text, schema).isPresent()
              ? Optional.empty()
              : Optional.of(Insert.parse(text, schema).source());
      case DELETE -> RowChanges.Delete.parse(text, schema).where().map(w -> "SELECT 1 WHERE " + w);
      case UPDATE -> {
        RowChanges.Update update = RowChanges.Update.parse(text, schema);
        yield Optional.of(
            "SELECT "
                + String.join(", ", update.set().values())
                + update.where().map(w -> " WHERE " + w).orElse(""));
      }
      case MERGE -> Optional.of("SELECT 1 FROM " + MergeInto.Frame.parse(text, schema).source());
      case CREATE_TABLE, DROP_TABLE, ALTER_TABLE, QUERY, OTHER -> Optional.empty();
    };
  }

  /**
   * Runs {@code sql} and returns how many rows it wrote (0 for CREATE TABLE, DROP TABLE and ALTER
   * TABLE).
   *
   * @param schema the namespace unqualified table names resolve in ("" for none)
   * @param parameters the statement's parameter values (JDBC values)
   * @param allocator the call's allocator, for the rows on their way to the Parquet writer
   * @param afterBatch runs after each batch of rows (the caller's memory limit check)
   */
  public long execute(
      String sql,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    String text = stripSemicolons(sql);
    StatementKind kind = StatementKind.of(text);
    if (transaction.isPresent()
        && (kind == StatementKind.CREATE_TABLE
            || kind == StatementKind.DROP_TABLE
            || kind == StatementKind.ALTER_TABLE)) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "%s is not supported inside a transaction (transaction %s): it commits on its own;"
              + " run it outside the transaction",
          switch (kind) {
            case CREATE_TABLE -> "CREATE TABLE";
            case DROP_TABLE -> "DROP TABLE";
            default -> "ALTER TABLE";
          },
          transaction.get().name());
    }
    return switch (kind) {
      case INSERT -> insert(text, schema, parameters, allocator, afterBatch);
      case CREATE_TABLE -> create(text, schema, parameters, allocator, afterBatch);
      case DROP_TABLE -> drop(text, schema);
      case DELETE -> rowChanges.delete(text, schema, parameters, allocator, afterBatch);
      case UPDATE -> rowChanges.update(text, schema, parameters, allocator, afterBatch);
      case MERGE -> merges.merge(text, schema, allocator, afterBatch);
      case ALTER_TABLE -> {
        alters.alter(text, schema, allocator);
        yield 0;
      }
      case QUERY ->
          throw new QuiverException(
              QuiverErrorCode.INVALID_SQL, "A query is not an update; run it as a query");
      case OTHER -> throw engine.unsupported(text);
    };
  }

  /**
   * The parameters an update takes (its result has no columns): an INSERT's parameters DuckDB
   * cannot type take the table's column types when there is one per column, as in {@code INSERT
   * INTO t VALUES (?, ?, ?)}; a DELETE's or UPDATE's are those of its values and condition as
   * DuckDB types them; CREATE TABLE and DROP TABLE take none.
   */
  public SqlEngine.Shape shape(String sql, String schema) {
    String text = stripSemicolons(sql);
    SqlEngine.Shape none = new SqlEngine.Shape(new Schema(List.of()), new Schema(List.of()));
    StatementKind kind = StatementKind.of(text);
    if (kind == StatementKind.DELETE || kind == StatementKind.UPDATE) {
      // The parameters of a SELECT of the new values over the condition: the statement's order.
      return writes(text, schema)
          .flatMap(Writes::source)
          .map(s -> new SqlEngine.Shape(engine.describe(s, schema).parameters(), none.results()))
          .orElse(none);
    }
    if (kind != StatementKind.INSERT) {
      return none;
    }
    Optional<BoundInsert> bound = boundInsert(text, schema);
    if (bound.isPresent()) {
      return new SqlEngine.Shape(bound.get().parameterSchema(), none.results());
    }
    Insert insert = Insert.parse(text, schema);
    QuiverTable table = store.load(insert.table());
    SqlEngine.Shape shape =
        engine.describeUntyped(
            typedSource(table, insert.source()), schema, Map.of(insert.table(), table));
    List<ArrowType> columns = table.arrowSchema().getFields().stream().map(Field::getType).toList();
    return new SqlEngine.Shape(SqlEngine.withTypes(shape, columns).parameters(), none.results());
  }

  /**
   * {@code sql} as a {@link BoundInsert} when it is {@code INSERT INTO t [(columns)] VALUES (?,
   * ...)}, with a {@code ?} for each value and nothing else: its parameter rows can go to the table
   * as Arrow batches, all in one commit. Empty for any other statement.
   *
   * @throws QuiverException TABLE_NOT_FOUND, or SCHEMA_MISMATCH when the values do not pair with
   *     the table's columns
   */
  public Optional<BoundInsert> boundInsert(String sql, String schema) {
    return BoundInsert.parse(stripSemicolons(sql), schema, engine, this::target);
  }

  /** An INSERT's frame: the table it writes and the query or VALUES that give the rows. */
  private record Insert(TableId table, String source) {
    static Insert parse(String sql, String schema) {
      SqlText.Name name = SqlText.readName(sql, SqlText.afterKeywords(sql, 0, "INSERT", "INTO"));
      TableId id = tableId(name, schema, sql);
      String source = sql.substring(name.end()).strip();
      if (source.startsWith("(")
          && !StatementKind.of(source.substring(1)).equals(StatementKind.QUERY)) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "INSERT with a column list is not supported yet; give every column of %s in table"
                + " order",
            id);
      }
      return new Insert(id, source);
    }
  }

  private long insert(
      String sql,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    Insert insert = Insert.parse(sql, schema);
    QuiverTable table = target(insert.table());
    try (SqlQuery query =
        engine.prepare(
            typedSource(table, insert.source()),
            schema,
            parameters,
            Map.of(insert.table(), table),
            List.of(SqlEngine.MATERIALIZE))) {
      return append(insert.table(), table, query, allocator, afterBatch).rows();
    }
  }

  /**
   * Runs INSERT {@code sql} once for each row of {@code parameterRows} and appends every row the
   * runs give in one commit, or none: each run reads the tables as they were before the commit.
   * Returns the rows written. {@code beforeCommit} runs just before the commit (the call's
   * cancellation check); {@code afterBatch} after each batch.
   *
   * @throws QuiverException INVALID_ARGUMENT when {@code sql} is not an INSERT
   */
  public long insertEach(
      String sql,
      String schema,
      List<List<Object>> parameterRows,
      BufferAllocator allocator,
      Runnable afterBatch,
      Runnable beforeCommit)
      throws Exception {
    String text = stripSemicolons(sql);
    if (StatementKind.of(text) != StatementKind.INSERT) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Only an INSERT runs once per row of parameters; bind one row to run '%s'",
          text.length() > 80 ? text.substring(0, 80) + "..." : text);
    }
    Insert insert = Insert.parse(text, schema);
    QuiverTable table = target(insert.table());
    String source = typedSource(table, insert.source());
    try (EachRowReader rows =
        new EachRowReader(
            allocator,
            parameterRows,
            row -> {
              SqlQuery query =
                  engine.prepare(
                      source,
                      schema,
                      row,
                      Map.of(insert.table(), table),
                      List.of(SqlEngine.MATERIALIZE));
              try {
                query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
                return query;
              } catch (RuntimeException e) {
                closeAfterFailure(query, e);
                throw e;
              }
            },
            insert.table(),
            table.arrowSchema(),
            afterBatch)) {
      return store.append(table, rows, allocator, beforeCommit).rows();
    }
  }

  private static void closeAfterFailure(SqlQuery query, RuntimeException failure) {
    try {
      query.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Runs {@code query} and appends its rows to {@code id}: to the existing {@code table} (its
   * schema checked), or, when {@code table} is null, to a new table made from the rows' schema.
   */
  private PutReceipt append(
      TableId id, QuiverTable table, SqlQuery query, BufferAllocator allocator, Runnable afterBatch)
      throws Exception {
    query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
    try (SqlQueryReader rows =
        table == null
            ? new SqlQueryReader(allocator, query, afterBatch)
            : new SqlQueryReader(allocator, query, id, table.arrowSchema(), afterBatch)) {
      return table == null
          ? store.append(id, rows, allocator)
          : store.append(table, rows, allocator, () -> {});
    }
  }

  /** The INSERT's rows cast to the table's column types, in table order. */
  static String typedSource(QuiverTable table, String source) {
    List<Field> fields = table.arrowSchema().getFields();
    StringBuilder select = new StringBuilder("SELECT ");
    StringBuilder aliases = new StringBuilder();
    for (int i = 0; i < fields.size(); i++) {
      String alias = "quiver_value_" + (i + 1);
      select.append(i == 0 ? "" : ", ");
      select.append("CAST(").append(alias).append(" AS ");
      select.append(DuckDbTypes.sqlType(fields.get(i))).append(") AS ");
      select.append(SqlText.identifier(fields.get(i).getName()));
      aliases.append(i == 0 ? "" : ", ").append(alias);
    }
    return select + " FROM (" + source + ") AS quiver_values(" + aliases + ")";
  }

  private long create(
      String sql,
      String schema,
      List<Object> parameters,
      BufferAllocator allocator,
      Runnable afterBatch)
      throws Exception {
    Create frame = Create.parse(sql, schema);
    TableId id = frame.table();
    if (store.find(id).isPresent()) {
      if (frame.ifNotExists()) {
        return 0;
      }
      throw new QuiverException(
          QuiverErrorCode.TABLE_ALREADY_EXISTS, "Table %s already exists", id);
    }
    String rest = frame.rest();
    try (SqlQuery query =
        frame.query().isPresent()
            ? engine.prepare(
                frame.query().get(), schema, parameters, Map.of(), List.of(SqlEngine.MATERIALIZE))
            : engine.prepare(
                "SELECT * FROM temp.main." + NEW_TABLE,
                schema,
                List.of(),
                Map.of(),
                List.of(
                    "CREATE TEMP TABLE " + NEW_TABLE + " " + StandardTypeNames.toDuckDb(rest)))) {
      PutReceipt receipt = append(id, null, query, allocator, afterBatch);
      return frame.query().isPresent() ? receipt.rows() : 0;
    }
  }

  /** A CREATE TABLE's frame: the table, IF NOT EXISTS, what follows the name, the AS query. */
  private record Create(TableId table, boolean ifNotExists, String rest, Optional<String> query) {
    static Create parse(String sql, String schema) {
      int afterTable = SqlText.afterKeywords(sql, 0, "CREATE", "TABLE");
      int afterIfNotExists = SqlText.afterKeywords(sql, afterTable, "IF", "NOT", "EXISTS");
      SqlText.Name name =
          SqlText.readName(sql, afterIfNotExists < 0 ? afterTable : afterIfNotExists);
      String rest = sql.substring(name.end()).strip();
      int afterAs = SqlText.afterKeywords(rest, 0, "AS");
      return new Create(
          tableId(name, schema, sql),
          afterIfNotExists >= 0,
          rest,
          afterAs >= 0 ? Optional.of(rest.substring(afterAs)) : Optional.empty());
    }
  }

  /** A DROP TABLE's frame: the table and IF EXISTS. */
  private record Drop(TableId table, boolean ifExists) {
    static Drop parse(String sql, String schema) {
      int afterTable = SqlText.afterKeywords(sql, 0, "DROP", "TABLE");
      int afterIfExists = SqlText.afterKeywords(sql, afterTable, "IF", "EXISTS");
      SqlText.Name name = SqlText.readName(sql, afterIfExists < 0 ? afterTable : afterIfExists);
      TableId id = tableId(name, schema, sql);
      if (!sql.substring(name.end()).isBlank()) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "DROP TABLE takes one table and no options: %s",
            sql.substring(name.end()).strip());
      }
      return new Drop(id, afterIfExists >= 0);
    }
  }

  /**
   * What an update writes and reads, for access checks: the table it creates, appends to or drops,
   * and the query (an INSERT's source, a CREATE TABLE's AS query) whose tables it reads.
   *
   * @param table the table written
   * @param source the query read, if any
   */
  public record Writes(TableId table, Optional<String> source) {}

  /** What update {@code sql} writes and reads; empty for a query or a statement Quiver refuses. */
  public Optional<Writes> writes(String sql, String schema) {
    String text = stripSemicolons(sql);
    return switch (StatementKind.of(text)) {
      case INSERT -> {
        Optional<BoundInsert.Frame> bound = BoundInsert.Frame.parse(text, schema);
        if (bound.isPresent()) {
          yield Optional.of(new Writes(bound.get().table(), Optional.empty()));
        }
        Insert insert = Insert.parse(text, schema);
        yield Optional.of(new Writes(insert.table(), Optional.of(insert.source())));
      }
      case CREATE_TABLE -> {
        Create create = Create.parse(text, schema);
        yield Optional.of(new Writes(create.table(), create.query()));
      }
      case DROP_TABLE ->
          Optional.of(new Writes(Drop.parse(text, schema).table(), Optional.empty()));
      case DELETE -> {
        RowChanges.Delete delete = RowChanges.Delete.parse(text, schema);
        yield Optional.of(
            new Writes(
                delete.table(),
                delete.where().map(w -> "SELECT 1 FROM " + delete.table() + " WHERE " + w)));
      }
      case UPDATE -> {
        RowChanges.Update update = RowChanges.Update.parse(text, schema);
        yield Optional.of(
            new Writes(
                update.table(),
                Optional.of(
                    "SELECT "
                        + String.join(", ", update.set().values())
                        + " FROM "
                        + update.table()
                        + update.where().map(w -> " WHERE " + w).orElse(""))));
      }
      case MERGE -> {
        MergeInto.Frame merge = MergeInto.Frame.parse(text, schema);
        yield Optional.of(new Writes(merge.table(), Optional.of(merge.reads())));
      }
      case ALTER_TABLE -> Optional.of(new Writes(AlterTable.table(text, schema), Optional.empty()));
      case QUERY, OTHER -> Optional.empty();
    };
  }

  private long drop(String sql, String schema) {
    Drop frame = Drop.parse(sql, schema);
    TableId id = frame.table();
    Optional<QuiverTable> table = store.find(id);
    if (table.isEmpty()) {
      if (frame.ifExists()) {
        return 0;
      }
      throw new QuiverException(QuiverErrorCode.TABLE_NOT_FOUND, "Table %s does not exist", id);
    }
    store.drop(id);
    return 0;
  }

  /** The table a statement names: namespace.table, quiver.namespace.table, or table in schema. */
  static TableId tableId(SqlText.Name name, String schema, String sql) {
    List<String> parts = name.parts();
    if (parts.size() == 3 && parts.get(0).equalsIgnoreCase(SqlEngine.CATALOG)) {
      return TableId.of(parts.get(1), parts.get(2));
    }
    if (parts.size() == 2) {
      return TableId.of(parts.get(0), parts.get(1));
    }
    if (parts.size() == 1 && schema != null && !schema.isEmpty()) {
      return TableId.of(schema, parts.get(0));
    }
    throw new QuiverException(
        QuiverErrorCode.INVALID_NAME,
        "Cannot tell which table '%s' writes: name it namespace.table (catalog %s)",
        sql.length() > 80 ? sql.substring(0, 80) + "..." : sql,
        SqlEngine.CATALOG);
  }

  private static String stripSemicolons(String sql) {
    String text = sql.strip();
    while (text.endsWith(";")) {
      text = text.substring(0, text.length() - 1).strip();
    }
    return text;
  }
}
