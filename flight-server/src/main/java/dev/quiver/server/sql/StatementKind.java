package dev.quiver.server.sql;

import java.util.Set;

/** What a statement does, read from its leading keywords; DuckDB parses the rest. */
public enum StatementKind {
  /** Returns rows and changes nothing. */
  QUERY,
  /** INSERT INTO table VALUES ... or INSERT INTO table SELECT ... */
  INSERT,
  /** CREATE TABLE [IF NOT EXISTS] table (columns) or CREATE TABLE table AS SELECT ... */
  CREATE_TABLE,
  /** DROP TABLE [IF EXISTS] table */
  DROP_TABLE,
  /** DELETE FROM table [WHERE condition] */
  DELETE,
  /** UPDATE table SET column = expression, ... [WHERE condition] */
  UPDATE,
  /** MERGE INTO table USING source ON condition WHEN ... */
  MERGE,
  /** ALTER TABLE table ADD | DROP | RENAME | ALTER COLUMN ... ({@link AlterTable}) */
  ALTER_TABLE,
  /** Anything else, which Quiver refuses (SET, ATTACH, COPY, ...). */
  OTHER;

  private static final Set<String> QUERY_KEYWORDS =
      Set.of(
          "SELECT",
          "WITH",
          "VALUES",
          "FROM",
          "TABLE",
          "SHOW",
          "DESCRIBE",
          "SUMMARIZE",
          "EXPLAIN",
          "PIVOT",
          "UNPIVOT");

  /** The kind of {@code sql}. */
  public static StatementKind of(String sql) {
    String first = SqlText.firstKeyword(sql);
    if (QUERY_KEYWORDS.contains(first) || sql.stripLeading().startsWith("(")) {
      return QUERY;
    }
    String rest = SqlText.afterKeyword(sql, first);
    return switch (first) {
      case "INSERT" -> SqlText.firstKeyword(rest).equals("INTO") ? INSERT : OTHER;
      case "CREATE" -> SqlText.firstKeyword(rest).equals("TABLE") ? CREATE_TABLE : OTHER;
      case "DROP" -> SqlText.firstKeyword(rest).equals("TABLE") ? DROP_TABLE : OTHER;
      case "DELETE" -> SqlText.firstKeyword(rest).equals("FROM") ? DELETE : OTHER;
      case "UPDATE" -> UPDATE;
      case "MERGE" -> SqlText.firstKeyword(rest).equals("INTO") ? MERGE : OTHER;
      case "ALTER" -> SqlText.firstKeyword(rest).equals("TABLE") ? ALTER_TABLE : OTHER;
      default -> OTHER;
    };
  }
}
