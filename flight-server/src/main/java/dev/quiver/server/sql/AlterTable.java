package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.SchemaChange;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.iceberg.expressions.Expressions;

/**
 * ALTER TABLE, one schema change per statement, committed through {@link
 * IcebergTableStore#alterSchema}:
 *
 * <pre>
 * ALTER TABLE t ADD [COLUMN] c type [NULL | NOT NULL]
 * ALTER TABLE t DROP [COLUMN] c
 * ALTER TABLE t RENAME [COLUMN] a TO b
 * ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE type
 * ALTER TABLE t ALTER [COLUMN] c DROP NOT NULL
 * </pre>
 *
 * <p>DuckDB's parser serialises only SELECT statements ({@code json_serialize_sql}), so these forms
 * are read here, strictly: any other clause is refused UNSUPPORTED_OPERATION naming it. A type is a
 * scalar type name DuckDB knows ({@code bigint}, {@code decimal(12,2)}, {@code varchar}), which
 * DuckDB turns into the Arrow type a CREATE TABLE would give the column. Thread-safe.
 */
final class AlterTable {
  private static final Pattern TYPE =
      Pattern.compile(
          "[A-Za-z][A-Za-z0-9_]*(?:\\s+[A-Za-z][A-Za-z0-9_]*)*"
              + "(?:\\s*\\(\\s*\\d+\\s*(?:,\\s*\\d+\\s*)?\\))?");
  private static final Pattern NULLABILITY =
      Pattern.compile("(?is)^(.*?)\\s+(NOT\\s+NULL|NULL)\\s*$");

  private final SqlEngine engine;
  private final IcebergTableStore store;

  AlterTable(SqlEngine engine, IcebergTableStore store) {
    this.engine = requireNonNull(engine, "engine is null");
    this.store = requireNonNull(store, "store is null");
  }

  /** The table ALTER TABLE {@code sql} changes (for access checks; the rest is not read). */
  static TableId table(String sql, String schema) {
    int afterTable = SqlText.afterKeywords(sql, 0, "ALTER", "TABLE");
    return SqlUpdates.tableId(SqlText.readName(sql, afterTable), schema, sql);
  }

  /**
   * Runs ALTER TABLE {@code sql}. {@code allocator}: the call's, for the check that the table's
   * files carry Parquet field ids.
   */
  void alter(String sql, String schema, BufferAllocator allocator) throws Exception {
    TableId id = table(sql, schema);
    SchemaChange change = parse(sql, schema, id);
    QuiverTable table = store.load(id);
    requireFieldIds(table, allocator);
    store.alterSchema(id, change);
  }

  private SchemaChange parse(String sql, String schema, TableId id) {
    int afterTable = SqlText.afterKeywords(sql, 0, "ALTER", "TABLE");
    if (SqlText.afterKeywords(sql, afterTable, "IF", "EXISTS") >= 0) {
      throw unsupported(id, "IF EXISTS");
    }
    int at = SqlText.readName(sql, afterTable).end();
    String clause = SqlText.firstKeyword(sql.substring(at));
    at = SqlText.afterKeywords(sql, at, clause);
    switch (clause) {
      case "ADD" -> {
        at = optionalColumn(sql, at, id, "ADD");
        Column column = column(sql, at, id);
        return new SchemaChange.AddColumn(
            newColumn(id, column.name(), sql.substring(column.end())));
      }
      case "DROP" -> {
        at = optionalColumn(sql, at, id, "DROP");
        Column column = column(sql, at, id);
        requireEnd(sql, column.end(), id);
        return new SchemaChange.DropColumn(column.name());
      }
      case "RENAME" -> {
        if (SqlText.afterKeywords(sql, at, "TO") >= 0) {
          throw unsupported(id, "RENAME TO (renaming a table)");
        }
        at = optionalColumn(sql, at, id, "RENAME");
        Column column = column(sql, at, id);
        int afterTo = SqlText.afterKeywords(sql, column.end(), "TO");
        if (afterTo < 0) {
          throw invalidSql("RENAME COLUMN %s needs TO and the new name: '%s'", column.name(), sql);
        }
        Column newName = column(sql, afterTo, id);
        requireEnd(sql, newName.end(), id);
        return new SchemaChange.RenameColumn(column.name(), newName.name());
      }
      case "ALTER" -> {
        at = optionalColumn(sql, at, id, "ALTER");
        Column column = column(sql, at, id);
        int afterType = SqlText.afterKeywords(sql, column.end(), "TYPE");
        if (afterType < 0) {
          afterType = SqlText.afterKeywords(sql, column.end(), "SET", "DATA", "TYPE");
        }
        if (afterType >= 0) {
          if (SqlText.topLevelKeyword(sql, afterType, "USING") >= 0) {
            throw unsupported(id, "ALTER COLUMN ... TYPE ... USING");
          }
          Field field = arrowField(column.name(), sql.substring(afterType), true);
          return new SchemaChange.WidenColumn(column.name(), field.getType());
        }
        int afterDropNotNull = SqlText.afterKeywords(sql, column.end(), "DROP", "NOT", "NULL");
        if (afterDropNotNull >= 0) {
          requireEnd(sql, afterDropNotNull, id);
          return new SchemaChange.DropNotNull(column.name());
        }
        throw unsupported(id, "ALTER COLUMN " + sql.substring(column.end()).strip());
      }
      default ->
          throw unsupported(
              id, clause.isEmpty() ? sql.substring(at).strip() : clause + " (only column changes)");
    }
  }

  /** The index after an optional COLUMN keyword; refuses ADD CONSTRAINT, IF [NOT] EXISTS. */
  private static int optionalColumn(String sql, int at, TableId id, String clause) {
    int afterColumn = SqlText.afterKeywords(sql, at, "COLUMN");
    int next = afterColumn < 0 ? at : afterColumn;
    String word = SqlText.firstKeyword(sql.substring(next));
    if (word.equals("IF")
        || (afterColumn < 0
            && List.of("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN").contains(word))) {
      throw unsupported(id, clause + " " + (afterColumn < 0 ? "" : "COLUMN ") + word);
    }
    return next;
  }

  private record Column(String name, int end) {}

  private static Column column(String sql, int at, TableId id) {
    SqlText.Name name = SqlText.readName(sql, at);
    if (name.parts().size() != 1) {
      throw invalidSql(
          "Expected a column name of table %s at '%s'",
          id, sql.substring(Math.min(at, name.end())));
    }
    return new Column(name.parts().get(0), name.end());
  }

  private static void requireEnd(String sql, int at, TableId id) {
    String rest = sql.substring(at).strip();
    if (!rest.isEmpty()) {
      throw unsupported(id, rest);
    }
  }

  /** The column ADD adds: {@code definition} is its type and an optional NULL or NOT NULL. */
  private Field newColumn(TableId id, String name, String definition) {
    String type = definition.strip();
    boolean nullable = true;
    Matcher nullability = NULLABILITY.matcher(type);
    if (nullability.matches()) {
      type = nullability.group(1).strip();
      nullable = !nullability.group(2).toUpperCase(Locale.ROOT).startsWith("NOT");
    }
    for (String word :
        List.of("DEFAULT", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "GENERATED")) {
      if (SqlText.topLevelKeyword(type, 0, word) >= 0) {
        throw unsupported(id, "ADD COLUMN ... " + word);
      }
    }
    return arrowField(name, type, nullable);
  }

  /** The Arrow field a column of DuckDB type {@code type} has, as CREATE TABLE would make it. */
  private Field arrowField(String name, String type, boolean nullable) {
    String text = type.strip();
    if (!TYPE.matcher(text).matches()) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Column %s: ALTER TABLE takes a scalar type name such as bigint, double or"
              + " decimal(12,2), not '%s'",
          name,
          text);
    }
    Field described =
        engine
            .describe("SELECT CAST(NULL AS " + text + ") AS " + SqlText.identifier(name), "")
            .results()
            .getFields()
            .get(0);
    ArrowType arrow = described.getType();
    if (arrow instanceof ArrowType.Utf8View || arrow instanceof ArrowType.LargeUtf8) {
      arrow = ArrowType.Utf8.INSTANCE;
    } else if (arrow instanceof ArrowType.BinaryView || arrow instanceof ArrowType.LargeBinary) {
      arrow = ArrowType.Binary.INSTANCE;
    }
    return new Field(name, new FieldType(nullable, arrow, null), List.of());
  }

  /**
   * Refuses a table whose current data files include one without Parquet field ids (another engine
   * wrote it without them): once the schema changes, columns are found by field id, and such a file
   * would read as nulls.
   */
  private void requireFieldIds(QuiverTable table, BufferAllocator allocator) throws Exception {
    Optional<Long> snapshot = table.currentSnapshotId();
    if (snapshot.isEmpty()) {
      return;
    }
    List<ScanFile> files = table.files(snapshot.get(), Expressions.alwaysTrue());
    if (files.isEmpty()) {
      return;
    }
    try (LocalFiles local = store.localFiles(table, files);
        SqlQuery query =
            engine.prepare(
                "SELECT file_name FROM parquet_schema("
                    + ScanRelation.list(local.paths())
                    + ") GROUP BY file_name HAVING count(field_id) = 0 LIMIT 1",
                "",
                List.of(),
                Map.of(),
                List.of())) {
      query.execute(allocator, 16);
      while (query.next()) {
        if (query.root().getRowCount() > 0) {
          throw new QuiverException(
              QuiverErrorCode.UNSUPPORTED_OPERATION,
              "Cannot change the schema of table %s: its data file %s has no Parquet field ids,"
                  + " and after a schema change Quiver finds columns by field id; rewrite the"
                  + " table first (CREATE TABLE ... AS SELECT)",
              table.id(),
              query.root().getVector(0).getObject(0));
        }
      }
    }
  }

  private static QuiverException unsupported(TableId id, String clause) {
    return new QuiverException(
        QuiverErrorCode.UNSUPPORTED_OPERATION,
        "ALTER TABLE %s: %s is not supported; Quiver's ALTER TABLE adds, drops and renames a"
            + " column, widens a column's type (ALTER COLUMN c TYPE t) and drops NOT NULL",
        id,
        clause);
  }

  private static QuiverException invalidSql(String format, Object... args) {
    return new QuiverException(QuiverErrorCode.INVALID_SQL, format, args);
  }
}
