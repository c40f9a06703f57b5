package dev.quiver.server.table.filter;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * A row filter as a DuckDB SQL condition: text with {@code ?} placeholders, and the values to bind
 * to them in order, so no client value is ever spliced into SQL text. Column names are quoted
 * identifiers.
 *
 * @param condition a boolean SQL expression over the table's columns
 * @param parameters JDBC values for the placeholders, in order
 */
public record SqlFilter(String condition, List<Object> parameters) {
  public SqlFilter {
    requireNonNull(condition, "condition is null");
    parameters = List.copyOf(parameters);
  }

  /** {@code name} as a quoted DuckDB identifier. */
  public static String identifier(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** A literal: {@code expression} holds one placeholder, bound to {@code value}. */
  static SqlFilter literal(String expression, Object value) {
    return new SqlFilter(expression, List.of(value));
  }

  /** {@code terms} joined by {@code operator} (AND, OR), in parentheses. */
  static SqlFilter join(String operator, List<SqlFilter> terms) {
    StringBuilder text = new StringBuilder("(");
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < terms.size(); i++) {
      text.append(i == 0 ? "" : " " + operator + " ").append(terms.get(i).condition());
      values.addAll(terms.get(i).parameters());
    }
    return new SqlFilter(text.append(')').toString(), values);
  }

  /** {@code column op literal}. */
  static SqlFilter compare(String column, String operator, SqlFilter literal) {
    return new SqlFilter(
        identifier(column) + " " + operator + " " + literal.condition(), literal.parameters());
  }

  /** The negation of {@code term}. */
  static SqlFilter not(SqlFilter term) {
    return new SqlFilter("(NOT " + term.condition() + ")", term.parameters());
  }
}
