package dev.quiver.server.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Translates the standard SQL and JDBC type names DuckDB does not know (CLOB, BINARY LARGE OBJECT,
 * VARBINARY(n), LONGVARCHAR, ...) in a CREATE TABLE's column list into DuckDB's names, as generic
 * tools (DBeaver, the ADBC Flight SQL driver's bulk ingest) write them. Names DuckDB knows (INT,
 * VARCHAR(20), CHARACTER VARYING(5), DOUBLE PRECISION, NUMERIC(10,2), TIMESTAMP WITH TIME ZONE,
 * ...) pass through untouched.
 *
 * <p>Only the type at the start of each column definition is rewritten: a column named {@code clob}
 * and text in quotes or defaults keep their spelling.
 */
final class StandardTypeNames {
  private record Rule(Pattern name, String duckDb) {}

  private static final List<Rule> RULES =
      List.of(
          rule("(?:NATIONAL\\s+)?(?:CHARACTER|CHAR)\\s+LARGE\\s+OBJECT", "VARCHAR"),
          rule("NCHAR\\s+LARGE\\s+OBJECT", "VARCHAR"),
          rule("BINARY\\s+LARGE\\s+OBJECT", "BLOB"),
          rule("N?CLOB|LONGN?VARCHAR|LONG\\s+N?VARCHAR", "VARCHAR"),
          rule(
              "(?:VARBINARY|BINARY\\s+VARYING|LONGVARBINARY|BINARY)(?:\\s*\\(\\s*\\d+\\s*\\))?",
              "BLOB"));

  private static final Pattern CONSTRAINT =
      Pattern.compile("(?i)(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\\b.*", Pattern.DOTALL);

  private StandardTypeNames() {}

  private static Rule rule(String name, String duckDb) {
    return new Rule(Pattern.compile("(?i)(" + name + ")(?=\\s|,|\\)|$)"), duckDb);
  }

  /**
   * {@code definition}, what follows a CREATE TABLE's name, with its columns' standard type names
   * in DuckDB's spelling; anything that is not a parenthesised column list is returned as it is.
   */
  static String toDuckDb(String definition) {
    String text = definition.strip();
    if (!text.startsWith("(")) {
      return definition;
    }
    int close = matchingParenthesis(text, 0);
    if (close < 0) {
      return definition;
    }
    StringBuilder out = new StringBuilder("(");
    List<String> elements = splitTopLevel(text.substring(1, close));
    for (int i = 0; i < elements.size(); i++) {
      out.append(i == 0 ? "" : ",").append(column(elements.get(i)));
    }
    return out.append(text.substring(close)).toString();
  }

  /** One column definition with its type translated; a table constraint as it is. */
  private static String column(String element) {
    String stripped = element.strip();
    if (CONSTRAINT.matcher(stripped).matches()) {
      return element;
    }
    int typeStart = afterName(stripped);
    if (typeStart < 0) {
      return element;
    }
    String type = stripped.substring(typeStart);
    for (Rule rule : RULES) {
      Matcher matcher = rule.name().matcher(type);
      if (matcher.lookingAt()) {
        String lead = element.substring(0, element.length() - element.stripLeading().length());
        return lead
            + stripped.substring(0, typeStart)
            + rule.duckDb()
            + type.substring(matcher.end());
      }
    }
    return element;
  }

  /** Where the type starts after the column's name and the blanks after it; -1 if unknown. */
  private static int afterName(String element) {
    int i = 0;
    if (element.startsWith("\"")) {
      i = 1;
      while (i < element.length()) {
        if (element.charAt(i) == '"') {
          if (i + 1 < element.length() && element.charAt(i + 1) == '"') {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      if (i >= element.length()) {
        return -1;
      }
      i++;
    } else {
      while (i < element.length()
          && (Character.isLetterOrDigit(element.charAt(i)) || element.charAt(i) == '_')) {
        i++;
      }
    }
    int start = i;
    while (i < element.length() && Character.isWhitespace(element.charAt(i))) {
      i++;
    }
    return i == start || i == element.length() ? -1 : i;
  }

  /** The index of the parenthesis closing the one at {@code open}, skipping quotes; -1 if none. */
  private static int matchingParenthesis(String text, int open) {
    int depth = 0;
    for (int i = open; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'' || c == '"') {
        i = endOfQuote(text, i);
        if (i < 0) {
          return -1;
        }
      } else if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> splitTopLevel(String list) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < list.length(); i++) {
      char c = list.charAt(i);
      if (c == '\'' || c == '"') {
        i = endOfQuote(list, i);
        if (i < 0) {
          return List.of(list);
        }
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(list.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(list.substring(start));
    return parts;
  }

  /** The index of the quote closing the one at {@code open} (a doubled quote is escaped). */
  private static int endOfQuote(String text, int open) {
    char quote = text.charAt(open);
    for (int i = open + 1; i < text.length(); i++) {
      if (text.charAt(i) == quote) {
        if (i + 1 < text.length() && text.charAt(i + 1) == quote) {
          i++;
          continue;
        }
        return i;
      }
    }
    return -1;
  }
}
