package dev.quiver.server.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;

/**
 * Decides whether a query may be split into shares of its one table's files, and rewrites it to
 * read one share.
 *
 * <p>A query splits only when it is a single SELECT of one table whose physical plan (DuckDB's
 * {@code EXPLAIN (FORMAT JSON)}) is a chain of row-by-row operators over one Parquet scan: then
 * running it over each share of the files and concatenating gives exactly its result. Any operator
 * that looks at more than one row (ORDER BY, LIMIT, DISTINCT, aggregates, windows, joins, set
 * operations) keeps the query whole.
 */
final class QuerySplit {
  /** Operators that turn each input row into at most one output row on their own. */
  private static final Set<String> ROW_OPERATORS = Set.of("PROJECTION", "FILTER");

  /** The Parquet scan at the bottom of the chain. */
  private static final Set<String> SCANS = Set.of("READ_PARQUET", "TABLE_SCAN", "PARQUET_SCAN");

  private QuerySplit() {}

  /** Whether DuckDB's parse tree is one SELECT whose FROM is one base table. */
  static boolean isSingleTableSelect(JsonNode tree) {
    if (tree == null || tree.path("error").asBoolean(false)) {
      return false;
    }
    JsonNode statements = tree.path("statements");
    if (!statements.isArray() || statements.size() != 1) {
      return false;
    }
    JsonNode node = statements.get(0).path("node");
    return "SELECT_NODE".equals(node.path("type").asText())
        && "BASE_TABLE".equals(node.path("from_table").path("type").asText())
        && node.path("cte_map").path("map").isEmpty();
  }

  /** Whether an {@code EXPLAIN (FORMAT JSON)} plan is row-by-row operators over one scan. */
  static boolean isRowByRowScan(JsonNode plan) {
    if (plan == null || !plan.isArray() || plan.size() != 1) {
      return false;
    }
    JsonNode node = plan.get(0);
    while (true) {
      String name = node.path("name").asText();
      JsonNode children = node.path("children");
      if (SCANS.contains(name)) {
        return children.isEmpty();
      }
      if (!ROW_OPERATORS.contains(name) || children.size() != 1) {
        return false;
      }
      node = children.get(0);
    }
  }

  /**
   * The parse tree of a {@link #isSingleTableSelect single-table SELECT} with its table replaced by
   * the temporary view {@code view}; the table keeps its name as the alias, so column references
   * qualified with it still resolve.
   */
  static JsonNode retarget(JsonNode tree, String view) {
    JsonNode copy = tree.deepCopy();
    ObjectNode table = (ObjectNode) copy.path("statements").get(0).path("node").path("from_table");
    if (table.path("alias").asText("").isEmpty()) {
      table.put("alias", table.path("table_name").asText());
    }
    table.put("catalog_name", "temp");
    table.put("schema_name", "main");
    table.put("table_name", view);
    if (table.has("qualified_name")) {
      ArrayNode path = ((ObjectNode) table.get("qualified_name")).putArray("path");
      path.add("temp").add("main").add(view);
    }
    return copy;
  }
}
