package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.QuiverTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A prepared {@code INSERT INTO t [(columns)] VALUES (?, ?, ...)}, whose bound parameter rows reach
 * the table as Arrow batches: every row bound in one call becomes part of one append (one Iceberg
 * snapshot), as a DoPut's batches do, rather than one statement and one commit per row.
 *
 * <p>Parameters pair with the table's columns by the column list, or in table order without one; a
 * column the list leaves out is NULL. {@link #rows} casts each batch to the table's column types
 * ({@link BoundRowsReader}). Immutable and thread-safe.
 */
public final class BoundInsert {
  private final SqlEngine engine;
  private final QuiverTable table;
  // For each table column, the index of the parameter that fills it; -1 for NULL.
  private final int[] parameterOf;
  private final int parameters;

  private BoundInsert(SqlEngine engine, QuiverTable table, int[] parameterOf, int parameters) {
    this.engine = engine;
    this.table = table;
    this.parameterOf = parameterOf;
    this.parameters = parameters;
  }

  /**
   * The bound insert {@code sql} is, if it is one: {@code INSERT INTO name [(columns)] VALUES (?,
   * ...)} with one {@code ?} per value, nothing else; empty for any other statement.
   *
   * @throws QuiverException SCHEMA_MISMATCH when its values do not pair with the table's columns
   */
  static Optional<BoundInsert> parse(
      String sql, String schema, SqlEngine engine, Function<TableId, QuiverTable> tables) {
    Optional<Frame> frame = Frame.parse(sql, schema);
    if (frame.isEmpty()) {
      return Optional.empty();
    }
    QuiverTable table = tables.apply(frame.get().table());
    return Optional.of(pair(engine, table, frame.get()));
  }

  /** The frame of a bound insert: its table, its column list (empty for none), its values. */
  record Frame(TableId table, List<String> columns, int values) {
    static Optional<Frame> parse(String sql, String schema) {
      int at = SqlText.afterKeywords(sql, 0, "INSERT", "INTO");
      if (at < 0) {
        return Optional.empty();
      }
      SqlText.Name name = SqlText.readName(sql, at);
      if (name.parts().isEmpty()) {
        return Optional.empty();
      }
      TableId id = SqlUpdates.tableId(name, schema, sql);
      at = SqlText.skipBlank(sql, name.end());
      List<String> columns = new ArrayList<>();
      if (at < sql.length() && sql.charAt(at) == '(') {
        at = listOf(sql, at, columns, true);
        if (at < 0) {
          return Optional.empty();
        }
      }
      at = SqlText.afterKeywords(sql, at, "VALUES");
      if (at < 0) {
        return Optional.empty();
      }
      at = SqlText.skipBlank(sql, at);
      List<String> values = new ArrayList<>();
      if (at >= sql.length() || sql.charAt(at) != '(') {
        return Optional.empty();
      }
      at = listOf(sql, at, values, false);
      if (at < 0 || SqlText.skipBlank(sql, at) != sql.length()) {
        return Optional.empty();
      }
      return Optional.of(new Frame(id, columns, values.size()));
    }

    /**
     * Reads a parenthesised list at {@code open}: of column names ({@code names}) or of {@code ?}
     * placeholders; the index after its ')', or -1 when the list is anything else.
     */
    private static int listOf(String sql, int open, List<String> items, boolean names) {
      int at = open + 1;
      while (true) {
        at = SqlText.skipBlank(sql, at);
        if (names) {
          SqlText.Name column = SqlText.readName(sql, at);
          if (column.parts().size() != 1) {
            return -1;
          }
          items.add(column.parts().get(0));
          at = column.end();
        } else {
          if (at >= sql.length() || sql.charAt(at) != '?') {
            return -1;
          }
          items.add("?");
          at++;
        }
        at = SqlText.skipBlank(sql, at);
        if (at >= sql.length()) {
          return -1;
        }
        if (sql.charAt(at) == ')') {
          return at + 1;
        }
        if (sql.charAt(at) != ',') {
          return -1;
        }
        at++;
      }
    }
  }

  private static BoundInsert pair(SqlEngine engine, QuiverTable table, Frame frame) {
    List<Field> fields = table.arrowSchema().getFields();
    int[] parameterOf = new int[fields.size()];
    if (frame.columns().isEmpty()) {
      if (frame.values() != fields.size()) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Table %s has %d columns but the INSERT gives %d values per row",
            table.id(),
            fields.size(),
            frame.values());
      }
      Arrays.setAll(parameterOf, i -> i);
      return new BoundInsert(engine, table, parameterOf, frame.values());
    }
    if (frame.columns().size() != frame.values()) {
      throw new QuiverException(
          QuiverErrorCode.SCHEMA_MISMATCH,
          "The INSERT into %s names %d columns but gives %d values per row",
          table.id(),
          frame.columns().size(),
          frame.values());
    }
    Arrays.fill(parameterOf, -1);
    for (int p = 0; p < frame.columns().size(); p++) {
      String name = frame.columns().get(p);
      int column = columnIndex(fields, name);
      if (column < 0) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH, "Table %s has no column %s", table.id(), name);
      }
      if (parameterOf[column] >= 0) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "The INSERT into %s names column %s twice",
            table.id(),
            fields.get(column).getName());
      }
      parameterOf[column] = p;
    }
    for (int c = 0; c < fields.size(); c++) {
      if (parameterOf[c] < 0 && !fields.get(c).isNullable()) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is NOT NULL but the INSERT gives it no value",
            fields.get(c).getName(),
            table.id());
      }
    }
    return new BoundInsert(engine, table, parameterOf, frame.values());
  }

  /** The column named {@code name}: exactly, else the one that matches ignoring case; else -1. */
  private static int columnIndex(List<Field> fields, String name) {
    int match = -1;
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).getName().equals(name)) {
        return i;
      }
      if (fields.get(i).getName().equalsIgnoreCase(name)) {
        match = match == -1 ? i : -2;
      }
    }
    return Math.max(match, -1);
  }

  /** The table the rows go to. */
  public TableId table() {
    return table.id();
  }

  /** The table, as loaded when the statement was read. */
  QuiverTable quiverTable() {
    return table;
  }

  /** Which parameter fills each table column, in table order; -1 for NULL. */
  int[] parameterOf() {
    return parameterOf.clone();
  }

  SqlEngine engine() {
    return engine;
  }

  /**
   * The parameters the statement takes: one per value, typed as the column it fills (what a client
   * should bind, so batches move to the table without a cast).
   */
  public Schema parameterSchema() {
    Field[] parameterFields = new Field[parameters];
    List<Field> fields = table.arrowSchema().getFields();
    for (int c = 0; c < fields.size(); c++) {
      if (parameterOf[c] >= 0) {
        Field column = fields.get(c);
        parameterFields[parameterOf[c]] =
            new Field(
                "parameter_" + (parameterOf[c] + 1),
                FieldType.nullable(column.getType()),
                column.getChildren());
      }
    }
    return new Schema(List.of(parameterFields));
  }

  /**
   * The rows of {@code parameters} (one column per parameter, in order) as the table's rows, cast
   * to its column types; batches are allocated in {@code allocator}. The caller closes the reader,
   * which does not close {@code parameters}.
   */
  public ArrowReader rows(ArrowReader parameters, BufferAllocator allocator) {
    requireNonNull(parameters, "parameters is null");
    return new BoundRowsReader(allocator, this, parameters);
  }

  /** How many values each row gives. */
  int parameterCount() {
    return parameters;
  }
}
