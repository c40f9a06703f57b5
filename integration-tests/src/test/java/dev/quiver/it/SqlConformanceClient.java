package dev.quiver.it;

import dev.quiver.client.TableId;
import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * One way of running SQL against Quiver (the Flight SQL JDBC driver, Arrow's FlightSqlClient)
 * behind the operations the SQL conformance suite ({@link BaseSqlConformanceIT}) needs.
 *
 * <p>Rows come back as lists of plain values: whole numbers as Long, text as String, decimals as
 * BigDecimal, SQL NULL as null. An operation the path cannot do throws {@link
 * UnsupportedOperationException} with "not supported", and its test class says so in {@code
 * hasBehavior}.
 */
interface SqlConformanceClient extends AutoCloseable {
  List<List<Object>> query(String sql) throws Exception;

  /** Runs a prepared query with these parameter values (Long or String). */
  List<List<Object>> queryPrepared(String sql, List<Object> parameters) throws Exception;

  /** Runs an update; returns the row count the server reported. */
  long update(String sql) throws Exception;

  /**
   * Bulk-ingests rows {@code [first, first + count)} of {@link FlightTables}, creating or
   * appending.
   */
  long ingest(TableId table, long first, long count) throws Exception;

  List<String> catalogs() throws Exception;

  /** Tables as namespace.name, of the namespaces matching a LIKE pattern. */
  List<String> tables(String namespacePattern) throws Exception;

  /** The SQL type names the server offers (XDBC type info). */
  List<String> typeNames() throws Exception;

  /** The Arrow types of a query's result columns as the client receives them. */
  List<ArrowType> resultTypes(String sql) throws Exception;

  /** Sets the session's default schema (namespace) for unqualified table names. */
  void useSchema(String namespace) throws Exception;

  /** The Flight status an exception thrown by this client carries (NOT_FOUND, ...). */
  String status(Throwable error);

  /** A value as the suite compares it: Long for whole numbers, String for text. */
  static Object plain(Object value) {
    if (value instanceof java.math.BigDecimal) {
      return value;
    }
    if (value instanceof Number number) {
      return number.longValue();
    }
    if (value instanceof org.apache.arrow.vector.util.Text text) {
      return text.toString();
    }
    return value;
  }
}
