package dev.quiver.server.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.expressions.Expressions;

/**
 * Resolves the tables a statement names to their current snapshots and keeps one DuckDB view per
 * table, {@code quiver.<namespace>.<table>}, reading exactly that snapshot's Parquet files.
 *
 * <p>Which tables a statement names comes from DuckDB's own parser ({@code json_serialize_sql}),
 * never from parsing SQL here. A view is replaced only when its table has a newer snapshot; DuckDB
 * expands a view when it binds a statement, so a running query keeps the file list it was bound
 * with while later commits replace the view for later queries. Names DuckDB resolves itself (CTEs,
 * DuckDB's own catalogs, a name with no table) are left alone, so DuckDB reports them.
 *
 * <p>Thread-safe: view changes are serialised (DuckDB refuses concurrent writes of one catalog
 * entry); statements on other connections bind concurrently.
 */
@ThreadSafe
final class TableBinder {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final IcebergTableStore store;
  private final Connection database;

  // The snapshot (0: no data) and schema each view reads: ALTER TABLE changes the schema only.
  @GuardedBy("this")
  private final Map<TableId, ViewState> views = new HashMap<>();

  private record ViewState(long snapshot, int schemaId) {}

  private final Set<String> schemas = new LinkedHashSet<>();

  TableBinder(IcebergTableStore store, Connection database) {
    this.store = store;
    this.database = database;
  }

  /**
   * Brings the view of every Quiver table {@code sql} names up to its current snapshot and returns
   * those tables; unqualified names are looked up in {@code defaultSchema} when it is not empty.
   * With a remote warehouse the views read read-cache copies: their pins are added to {@code pins},
   * which the caller closes once the query is done.
   */
  Map<TableId, QuiverTable> bind(
      Connection connection, String sql, String defaultSchema, List<LocalFiles> pins) {
    Map<TableId, QuiverTable> bound = new LinkedHashMap<>();
    for (TableId id : referencedTables(connection, sql, defaultSchema)) {
      Optional<QuiverTable> table = store.find(id);
      if (table.isPresent()) {
        refresh(table.get(), pin(table.get(), pins));
        bound.put(id, table.get());
      } else {
        forget(id);
      }
    }
    return bound;
  }

  /** The Quiver table names in {@code sql}; empty when DuckDB cannot parse it as a query. */
  static List<TableId> referencedTables(Connection connection, String sql, String defaultSchema) {
    JsonNode tree = parse(connection, sql);
    if (tree == null || tree.path("error").asBoolean(false)) {
      return List.of(); // not a SELECT; DuckDB's prepare reports syntax errors itself
    }
    Set<TableId> ids = new LinkedHashSet<>();
    collect(tree, defaultSchema, ids);
    return new ArrayList<>(ids);
  }

  /** What {@code sql} reads; see {@link SqlEngine.Reads}. */
  static SqlEngine.Reads references(Connection connection, String sql, String defaultSchema) {
    JsonNode tree = parse(connection, sql);
    if (tree == null || tree.path("error").asBoolean(false)) {
      return new SqlEngine.Reads(false, Set.of(), Set.of(), Set.of(), Set.of());
    }
    Set<TableId> tables = new LinkedHashSet<>();
    Set<String> ctes = new LinkedHashSet<>();
    Set<String> others = new LinkedHashSet<>();
    Set<String> functions = new LinkedHashSet<>();
    collectAll(tree, defaultSchema, tables, ctes, others, functions);
    return new SqlEngine.Reads(true, tables, ctes, others, functions);
  }

  private static void collectAll(
      JsonNode node,
      String defaultSchema,
      Set<TableId> tables,
      Set<String> ctes,
      Set<String> others,
      Set<String> functions) {
    if (node.isObject()) {
      String type = node.path("type").asText();
      if ("BASE_TABLE".equals(type)) {
        Set<TableId> one = new LinkedHashSet<>();
        collectOne(node, defaultSchema, one);
        if (one.isEmpty()) {
          String catalog = node.path("catalog_name").asText("");
          String schema = node.path("schema_name").asText("");
          String name = node.path("table_name").asText("");
          others.add(
              (catalog.isEmpty() ? "" : catalog + ".")
                  + (schema.isEmpty() ? "" : schema + ".")
                  + name);
        } else {
          tables.addAll(one);
        }
      } else if ("TABLE_FUNCTION".equals(type)) {
        functions.add(node.path("function").path("function_name").asText("(a table function)"));
      }
      JsonNode map = node.path("cte_map").path("map");
      map.forEach(entry -> ctes.add(entry.path("key").asText()));
      node.fields()
          .forEachRemaining(
              field ->
                  collectAll(field.getValue(), defaultSchema, tables, ctes, others, functions));
    } else if (node.isArray()) {
      node.forEach(child -> collectAll(child, defaultSchema, tables, ctes, others, functions));
    }
  }

  /**
   * DuckDB's parse tree of {@code sql} as JSON ({@code json_serialize_sql}): the statement, or
   * {@code error: true} with DuckDB's message; null when DuckDB could not be asked.
   */
  static JsonNode parse(Connection connection, String sql) {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT json_serialize_sql(?)")) {
      statement.setString(1, sql);
      try (ResultSet result = statement.executeQuery()) {
        result.next();
        return JSON.readTree(result.getString(1));
      }
    } catch (SQLException | IOException e) {
      return null;
    }
  }

  private static void collect(JsonNode node, String defaultSchema, Set<TableId> out) {
    collectOne(node, defaultSchema, out);
    node.forEach(child -> collect(child, defaultSchema, out));
  }

  private static void collectOne(JsonNode node, String defaultSchema, Set<TableId> out) {
    if (node.isObject() && "BASE_TABLE".equals(node.path("type").asText())) {
      String catalog = node.path("catalog_name").asText("");
      String schema = node.path("schema_name").asText("");
      String name = node.path("table_name").asText("");
      if (schema.isEmpty() && catalog.isEmpty()) {
        schema = defaultSchema;
      }
      if ((catalog.isEmpty() || catalog.equals(SqlEngine.CATALOG))
          && TableId.isValidName(schema)
          && TableId.isValidName(name)) {
        out.add(TableId.of(schema, name));
      }
    }
  }

  /** Creates the DuckDB schema of {@code namespace} if it does not exist yet. */
  synchronized void ensureSchema(String namespace) {
    if (schemas.contains(namespace)) {
      return;
    }
    try (Statement statement = database.createStatement()) {
      statement.execute(
          "CREATE SCHEMA IF NOT EXISTS " + SqlEngine.CATALOG + "." + SqlText.identifier(namespace));
      schemas.add(namespace);
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          e,
          "Cannot create SQL schema %s: %s",
          namespace,
          e.getMessage());
    }
  }

  /**
   * The local copies of the table's current files, pinned, for a remote warehouse (fetched now if
   * missing); null for a local one, whose views read the files in place.
   */
  private LocalFiles pin(QuiverTable table, List<LocalFiles> pins) {
    long snapshot = table.currentSnapshotId().orElse(0L);
    if (store.readCache().isEmpty() || snapshot == 0) {
      return null;
    }
    LocalFiles files = store.localFiles(table, table.files(snapshot, Expressions.alwaysTrue()));
    pins.add(files);
    return files;
  }

  private synchronized void refresh(QuiverTable table, LocalFiles local) {
    long snapshot = table.currentSnapshotId().orElse(0L);
    ViewState state = new ViewState(snapshot, table.table().schema().schemaId());
    if (state.equals(views.get(table.id()))) {
      return;
    }
    ensureSchema(table.id().namespace());
    try (Statement statement = database.createStatement()) {
      statement.execute(
          "CREATE OR REPLACE VIEW "
              + viewName(table.id())
              + " AS "
              + select(table, snapshot, local));
      views.put(table.id(), state);
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          e,
          "Cannot bind table %s for SQL: %s",
          table.id(),
          e.getMessage());
    }
  }

  private synchronized void forget(TableId id) {
    if (views.remove(id) == null) {
      return;
    }
    try (Statement statement = database.createStatement()) {
      statement.execute("DROP VIEW IF EXISTS " + viewName(id));
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot unbind dropped table %s: %s", id, e.getMessage());
    }
  }

  private static String viewName(TableId id) {
    return SqlEngine.CATALOG
        + "."
        + SqlText.identifier(id.namespace())
        + "."
        + SqlText.identifier(id.name());
  }

  /**
   * The snapshot's rows with the table's columns, deletes applied; a typed empty relation for no
   * files. {@code local}: the files' local copies, or null to read the files where the table has
   * them.
   */
  private String select(QuiverTable table, long snapshot, LocalFiles local) {
    if (local != null || snapshot == 0) {
      return select(table, local);
    }
    try (LocalFiles inPlace =
        store.localFiles(table, table.files(snapshot, Expressions.alwaysTrue()))) {
      return select(table, inPlace);
    }
  }

  /**
   * The rows of {@code files}, some of a snapshot's files, with the table's columns, deletes
   * applied: through local copies pinned until the query closes (added to {@code pins}) for a
   * remote warehouse, the files in place for a local one.
   */
  String select(QuiverTable table, List<ScanFile> files, List<LocalFiles> pins) {
    LocalFiles local = store.localFiles(table, files);
    pins.add(local);
    return select(table, local);
  }

  /** The table as loaded now; NOT_FOUND when it does not exist. */
  QuiverTable load(TableId id) {
    return store.load(id);
  }

  static String select(QuiverTable table, LocalFiles files) {
    boolean empty = files == null || files.files().isEmpty();
    List<Field> fields = table.arrowSchema().getFields();
    StringBuilder sql = new StringBuilder("SELECT ");
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      sql.append(i == 0 ? "" : ", ");
      if (empty) {
        sql.append("CAST(NULL AS ").append(DuckDbTypes.sqlType(field)).append(") AS ");
      }
      sql.append(SqlText.identifier(field.getName()));
    }
    if (empty) {
      return sql.append(" WHERE false").toString();
    }
    return sql.append(" FROM ").append(ScanRelation.of(files, FieldIdColumns.of(table))).toString();
  }
}
