package dev.quiver.server.sql;

import java.util.Locale;

/** Small helpers for the SQL text Quiver writes and reads: quoting and statement kinds. */
final class SqlText {
  private SqlText() {}

  /** {@code name} as a quoted DuckDB identifier. */
  static String identifier(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** {@code value} as a DuckDB string literal. */
  static String literal(String value) {
    return '\'' + value.replace("'", "''") + '\'';
  }

  /** The statement's first keyword, upper case, after whitespace and comments; "" if none. */
  static String firstKeyword(String sql) {
    int i = skipBlank(sql, 0);
    int start = i;
    while (i < sql.length() && Character.isLetter(sql.charAt(i))) {
      i++;
    }
    return sql.substring(start, i).toUpperCase(Locale.ROOT);
  }

  /** The text after the leading {@code keyword} (and the blanks before it). */
  static String afterKeyword(String sql, String keyword) {
    int start = skipBlank(sql, 0);
    return sql.substring(Math.min(sql.length(), start + keyword.length()));
  }

  /** The index of the first character at or after {@code from} that is not blank or comment. */
  static int skipBlank(String sql, int from) {
    int i = from;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end + 1;
      } else if (sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? sql.length() : end + 2;
      } else {
        break;
      }
    }
    return i;
  }
}
