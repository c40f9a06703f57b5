package dev.quiver.server.flightsql;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportsConvert;

/**
 * What Quiver's SQL (DuckDB's dialect) offers, as Flight SQL's SqlInfo and JDBC's DatabaseMetaData
 * name it: keywords beyond SQL:2003, the functions by JDBC's groups, and which types CAST converts
 * between.
 */
final class SqlFunctions {
  private SqlFunctions() {}

  /** DuckDB keywords that are not SQL:2003 keywords. */
  static final String[] KEYWORDS = {
    "ANTI",
    "ASOF",
    "ATTACH",
    "COLUMNS",
    "COPY",
    "DESCRIBE",
    "EXCLUDE",
    "EXPORT",
    "GLOB",
    "ILIKE",
    "INSTALL",
    "LIMIT",
    "LOAD",
    "MACRO",
    "OFFSET",
    "PIVOT",
    "POSITIONAL",
    "PRAGMA",
    "QUALIFY",
    "REPLACE",
    "SAMPLE",
    "SEMI",
    "SUMMARIZE",
    "UNPIVOT",
    "VACUUM"
  };

  static final String[] NUMERIC = {
    "ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CEILING", "COS", "COT", "DEGREES", "EXP", "FLOOR",
    "LOG", "LOG10", "MOD", "PI", "POWER", "RADIANS", "ROUND", "SIGN", "SIN", "SQRT", "TAN",
    "TRUNCATE"
  };

  static final String[] STRING = {
    "ASCII", "CHAR", "CONCAT", "LCASE", "LEFT", "LENGTH", "LOCATE", "LTRIM", "REPEAT", "REPLACE",
    "RIGHT", "RTRIM", "SUBSTRING", "UCASE", "LOWER", "UPPER", "TRIM", "LPAD", "RPAD", "REVERSE"
  };

  static final String[] SYSTEM = {"DATABASE", "IFNULL", "USER"};

  static final String[] DATETIME = {
    "CURDATE",
    "CURTIME",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DAYNAME",
    "DAYOFMONTH",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "EXTRACT",
    "HOUR",
    "MINUTE",
    "MONTH",
    "MONTHNAME",
    "NOW",
    "QUARTER",
    "SECOND",
    "WEEK",
    "YEAR",
    "DATE_PART",
    "DATE_TRUNC"
  };

  private static final List<SqlSupportsConvert> NUMBERS =
      List.of(
          SqlSupportsConvert.SQL_CONVERT_BIGINT,
          SqlSupportsConvert.SQL_CONVERT_BIT,
          SqlSupportsConvert.SQL_CONVERT_DECIMAL,
          SqlSupportsConvert.SQL_CONVERT_FLOAT,
          SqlSupportsConvert.SQL_CONVERT_INTEGER,
          SqlSupportsConvert.SQL_CONVERT_NUMERIC,
          SqlSupportsConvert.SQL_CONVERT_REAL,
          SqlSupportsConvert.SQL_CONVERT_SMALLINT,
          SqlSupportsConvert.SQL_CONVERT_TINYINT);

  private static final List<SqlSupportsConvert> TEXT =
      List.of(
          SqlSupportsConvert.SQL_CONVERT_CHAR,
          SqlSupportsConvert.SQL_CONVERT_VARCHAR,
          SqlSupportsConvert.SQL_CONVERT_LONGVARCHAR);

  private static final List<SqlSupportsConvert> BINARY =
      List.of(
          SqlSupportsConvert.SQL_CONVERT_BINARY,
          SqlSupportsConvert.SQL_CONVERT_VARBINARY,
          SqlSupportsConvert.SQL_CONVERT_LONGVARBINARY);

  /**
   * The conversions DuckDB's CAST makes: numbers to numbers and text, text to and from everything,
   * dates and timestamps to each other and text, times and binaries to text, binaries to binaries.
   */
  static Map<Integer, List<Integer>> conversions() {
    Map<Integer, List<Integer>> map = new LinkedHashMap<>();
    for (SqlSupportsConvert from : NUMBERS) {
      map.put(from.getNumber(), numbers(concat(NUMBERS, TEXT)));
    }
    List<SqlSupportsConvert> all = new java.util.ArrayList<>();
    for (SqlSupportsConvert c : SqlSupportsConvert.values()) {
      if (c != SqlSupportsConvert.UNRECOGNIZED) {
        all.add(c);
      }
    }
    for (SqlSupportsConvert from : TEXT) {
      map.put(from.getNumber(), numbers(all));
    }
    List<SqlSupportsConvert> temporal =
        concat(
            List.of(SqlSupportsConvert.SQL_CONVERT_DATE, SqlSupportsConvert.SQL_CONVERT_TIMESTAMP),
            TEXT);
    map.put(SqlSupportsConvert.SQL_CONVERT_DATE.getNumber(), numbers(temporal));
    map.put(
        SqlSupportsConvert.SQL_CONVERT_TIMESTAMP.getNumber(),
        numbers(concat(temporal, List.of(SqlSupportsConvert.SQL_CONVERT_TIME))));
    map.put(
        SqlSupportsConvert.SQL_CONVERT_TIME.getNumber(),
        numbers(concat(List.of(SqlSupportsConvert.SQL_CONVERT_TIME), TEXT)));
    for (SqlSupportsConvert from : BINARY) {
      map.put(from.getNumber(), numbers(concat(BINARY, TEXT)));
    }
    return map;
  }

  private static List<SqlSupportsConvert> concat(
      List<SqlSupportsConvert> a, List<SqlSupportsConvert> b) {
    List<SqlSupportsConvert> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static List<Integer> numbers(List<SqlSupportsConvert> types) {
    return types.stream().map(SqlSupportsConvert::getNumber).toList();
  }
}
