package dev.quiver.server.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.expressions.Binder;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * An Iceberg expression implied by a SQL condition, read from DuckDB's parse tree: every row the
 * condition matches also matches the expression, so Iceberg may skip the files whose statistics
 * rule it out, and it is the filter concurrent commits are checked against.
 *
 * <p>Only what translates exactly is kept: comparisons, IN lists, BETWEEN and IS [NOT] NULL of an
 * unqualified column with a plain literal of a matching kind (integers on integer columns, numbers
 * on double and decimal columns, strings on string columns, booleans on boolean columns), under AND
 * and OR. An AND drops the terms it cannot translate; an OR, a NOT or anything else that does not
 * translate becomes {@code true} (every file may match).
 */
final class WherePruning {
  private WherePruning() {}

  /** The expression implied by {@code condition} over {@code schema}'s columns. */
  static Expression of(Connection connection, String condition, Schema schema) {
    JsonNode tree = TableBinder.parse(connection, "SELECT 1 WHERE " + condition);
    if (tree == null || tree.path("error").asBoolean(false)) {
      return Expressions.alwaysTrue(); // DuckDB reports the error when the statement runs
    }
    JsonNode where = tree.path("statements").path(0).path("node").path("where_clause");
    Expression expression = translate(where, schema);
    return expression == null ? Expressions.alwaysTrue() : expression;
  }

  /** The expression, or null when {@code node} does not translate. */
  private static Expression translate(JsonNode node, Schema schema) {
    String type = node.path("type").asText();
    switch (type) {
      case "CONJUNCTION_AND" -> {
        Expression and = Expressions.alwaysTrue();
        for (JsonNode child : node.path("children")) {
          Expression term = translate(child, schema);
          if (term != null) {
            and = Expressions.and(and, term);
          }
        }
        return and;
      }
      case "CONJUNCTION_OR" -> {
        Expression or = Expressions.alwaysFalse();
        for (JsonNode child : node.path("children")) {
          Expression term = translate(child, schema);
          if (term == null) {
            return null;
          }
          or = Expressions.or(or, term);
        }
        return or;
      }
      case "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL" -> {
        String column = column(node.path("children").path(0), schema);
        if (column == null) {
          return null;
        }
        return bound(
            type.equals("OPERATOR_IS_NULL")
                ? Expressions.isNull(column)
                : Expressions.notNull(column),
            schema);
      }
      case "COMPARE_IN" -> {
        JsonNode children = node.path("children");
        String column = column(children.path(0), schema);
        if (column == null) {
          return null;
        }
        List<Object> values = new ArrayList<>();
        for (int i = 1; i < children.size(); i++) {
          Object value = literal(children.get(i), schema.findType(column));
          if (value == null) {
            return null;
          }
          values.add(value);
        }
        return bound(Expressions.in(column, values), schema);
      }
      case "COMPARE_BETWEEN" -> {
        String column = column(node.path("input"), schema);
        Object lower = column == null ? null : literal(node.path("lower"), schema.findType(column));
        Object upper = column == null ? null : literal(node.path("upper"), schema.findType(column));
        if (lower == null || upper == null) {
          return null;
        }
        return bound(
            Expressions.and(
                Expressions.greaterThanOrEqual(column, lower),
                Expressions.lessThanOrEqual(column, upper)),
            schema);
      }
      default -> {
        return node.path("class").asText().equals("COMPARISON") ? comparison(node, schema) : null;
      }
    }
  }

  private static Expression comparison(JsonNode node, Schema schema) {
    String type = node.path("type").asText();
    JsonNode left = node.path("left");
    JsonNode right = node.path("right");
    String column = column(left, schema);
    boolean flipped = false;
    if (column == null) {
      column = column(right, schema);
      flipped = true;
      right = left;
    }
    if (column == null) {
      return null;
    }
    Object value = literal(right, schema.findType(column));
    if (value == null) {
      return null;
    }
    Expression expression =
        switch (type) {
          case "COMPARE_EQUAL" -> Expressions.equal(column, value);
          case "COMPARE_NOTEQUAL" -> Expressions.notEqual(column, value);
          case "COMPARE_LESSTHAN" ->
              flipped
                  ? Expressions.greaterThan(column, value)
                  : Expressions.lessThan(column, value);
          case "COMPARE_GREATERTHAN" ->
              flipped
                  ? Expressions.lessThan(column, value)
                  : Expressions.greaterThan(column, value);
          case "COMPARE_LESSTHANOREQUALTO" ->
              flipped
                  ? Expressions.greaterThanOrEqual(column, value)
                  : Expressions.lessThanOrEqual(column, value);
          case "COMPARE_GREATERTHANOREQUALTO" ->
              flipped
                  ? Expressions.lessThanOrEqual(column, value)
                  : Expressions.greaterThanOrEqual(column, value);
          default -> null;
        };
    return expression == null ? null : bound(expression, schema);
  }

  /** The table column an unqualified column reference names (DuckDB ignores case), or null. */
  private static String column(JsonNode node, Schema schema) {
    if (!"COLUMN_REF".equals(node.path("type").asText()) || node.path("column_names").size() != 1) {
      return null;
    }
    String name = node.path("column_names").get(0).asText();
    Types.NestedField field = schema.caseInsensitiveFindField(name);
    return field == null || !schema.columns().contains(field) ? null : field.name();
  }

  /** A plain literal's value when its kind matches the column's type exactly, or null. */
  private static Object literal(JsonNode node, Type type) {
    if (!"VALUE_CONSTANT".equals(node.path("type").asText()) || type == null) {
      return null;
    }
    String kind = node.path("literal").path("kind").asText();
    String text = node.path("literal").path("text").asText();
    try {
      return switch (type.typeId()) {
        case INTEGER, LONG ->
            kind.equals("INTEGER") ? Long.valueOf(text) : null; // out of range: no pruning
        case DOUBLE ->
            kind.equals("INTEGER") || kind.equals("NUMERIC") ? Double.valueOf(text) : null;
        case DECIMAL ->
            kind.equals("INTEGER") || kind.equals("NUMERIC")
                // Exactly at the column's scale, or no pruning (setScale refuses to round).
                ? new BigDecimal(text).setScale(((Types.DecimalType) type).scale())
                : null;
        case STRING -> kind.equals("STRING") ? text : null;
        case BOOLEAN -> kind.equals("BOOLEAN") ? Boolean.valueOf(text) : null;
        default -> null;
      };
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  /** {@code expression} when it binds to {@code schema} (the literal converts), else null. */
  private static Expression bound(Expression expression, Schema schema) {
    try {
      Binder.bind(schema.asStruct(), expression, false);
      return expression;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
