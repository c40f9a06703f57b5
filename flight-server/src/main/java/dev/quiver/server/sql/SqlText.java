package dev.quiver.server.sql;

import java.util.Locale;

/** Small helpers for the SQL text Quiver writes and reads: quoting and statement kinds. */
final class SqlText {
  private SqlText() {}

  /** {@code name} as a quoted DuckDB identifier. */
  static String identifier(String name) {
    return dev.quiver.server.table.filter.SqlFilter.identifier(name);
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

  /**
   * A dotted name read from {@code sql} at {@code from} (after blanks): its parts (quoted parts
   * unquoted, unquoted parts as written) and the index just after it.
   */
  record Name(java.util.List<String> parts, int end) {}

  /** Reads a dotted name at {@code from}; an empty name when none is there. */
  static Name readName(String sql, int from) {
    java.util.List<String> parts = new java.util.ArrayList<>();
    int i = skipBlank(sql, from);
    while (i < sql.length()) {
      StringBuilder part = new StringBuilder();
      if (sql.charAt(i) == '"') {
        i++;
        while (i < sql.length()) {
          if (sql.charAt(i) == '"') {
            if (i + 1 < sql.length() && sql.charAt(i + 1) == '"') {
              part.append('"');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          part.append(sql.charAt(i++));
        }
      } else {
        while (i < sql.length()
            && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) {
          part.append(sql.charAt(i++));
        }
      }
      if (part.length() == 0) {
        break;
      }
      parts.add(part.toString());
      int next = skipBlank(sql, i);
      if (next < sql.length() && sql.charAt(next) == '.') {
        i = skipBlank(sql, next + 1);
      } else {
        break;
      }
    }
    return new Name(parts, i);
  }

  /**
   * The index after the keywords {@code words} (case-insensitive, blanks between); -1 if absent.
   */
  static int afterKeywords(String sql, int from, String... words) {
    int i = from;
    for (String word : words) {
      i = skipBlank(sql, i);
      if (!sql.regionMatches(true, i, word, 0, word.length())
          || (i + word.length() < sql.length()
              && Character.isLetterOrDigit(sql.charAt(i + word.length())))) {
        return -1;
      }
      i += word.length();
    }
    return i;
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

  /**
   * The index where {@code keyword} starts at the top level of {@code sql} at or after {@code
   * from}: outside parentheses, string literals, quoted names and comments; -1 if absent.
   */
  static int topLevelKeyword(String sql, int from, String keyword) {
    return nextTopLevel(
        sql,
        from,
        i ->
            (i == 0 || !isWordChar(sql.charAt(i - 1)))
                && afterKeywords(sql, i, keyword) == i + keyword.length());
  }

  /** {@code sql} split at top-level {@code separator}s (as for {@link #topLevelKeyword}). */
  static java.util.List<String> splitTopLevel(String sql, char separator) {
    java.util.List<String> parts = new java.util.ArrayList<>();
    int start = 0;
    for (int at = nextTopLevel(sql, 0, i -> sql.charAt(i) == separator);
        at >= 0;
        at = nextTopLevel(sql, at + 1, i -> sql.charAt(i) == separator)) {
      parts.add(sql.substring(start, at));
      start = at + 1;
    }
    parts.add(sql.substring(start));
    return parts;
  }

  /** The first index at or after {@code from}, at the top level, where {@code at} holds; -1. */
  private static int nextTopLevel(String sql, int from, java.util.function.IntPredicate at) {
    int depth = 0;
    int i = from;
    while (i < sql.length()) {
      int skipped = skipQuotedOrComment(sql, i);
      if (skipped != i) {
        i = skipped;
        continue;
      }
      char c = sql.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (depth == 0 && at.test(i)) {
        return i;
      }
      i++;
    }
    return -1;
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }

  /** The index after a string literal, quoted name or comment starting at {@code i}, else i. */
  private static int skipQuotedOrComment(String sql, int i) {
    char c = sql.charAt(i);
    if (c == '\'' || c == '"') {
      int j = i + 1;
      while (j < sql.length()) {
        if (sql.charAt(j) == c) {
          if (j + 1 < sql.length() && sql.charAt(j + 1) == c) {
            j += 2;
            continue;
          }
          return j + 1;
        }
        j++;
      }
      return sql.length();
    }
    if (sql.startsWith("--", i) || sql.startsWith("/*", i)) {
      return skipBlank(sql, i);
    }
    return i;
  }
}
