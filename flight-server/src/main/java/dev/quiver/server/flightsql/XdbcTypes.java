package dev.quiver.server.flightsql;

import java.sql.Types;
import java.util.List;

/**
 * The SQL types Quiver's SQL (DuckDB) offers, as GetXdbcTypeInfo rows in the column order of Flight
 * SQL's type-info schema, ordered by JDBC type code as JDBC's getTypeInfo asks.
 */
final class XdbcTypes {
  private static final int NULLABLE = 1; // DatabaseMetaData.typeNullable
  private static final int SEARCHABLE = 3; // DatabaseMetaData.typeSearchable

  static final List<Object[]> ROWS =
      List.of(
          row("TINYINT", Types.TINYINT, 3, null, null, false, 0, 0, 10),
          row("BIGINT", Types.BIGINT, 19, null, null, false, 0, 0, 10),
          row("BLOB", Types.VARBINARY, Integer.MAX_VALUE, "'", "'::BLOB", true, null, null, null),
          row("VARCHAR", Types.VARCHAR, Integer.MAX_VALUE, "'", "'", true, null, null, null),
          row("DECIMAL", Types.DECIMAL, 38, null, null, false, 0, 38, 10),
          row("INTEGER", Types.INTEGER, 10, null, null, false, 0, 0, 10),
          row("SMALLINT", Types.SMALLINT, 5, null, null, false, 0, 0, 10),
          row("FLOAT", Types.REAL, 7, null, null, false, null, null, 2),
          row("DOUBLE", Types.DOUBLE, 15, null, null, false, null, null, 2),
          row("BOOLEAN", Types.BOOLEAN, 1, null, null, false, null, null, null),
          row("DATE", Types.DATE, 10, "DATE '", "'", false, null, null, null),
          row("TIME", Types.TIME, 15, "TIME '", "'", false, 0, 6, null),
          row("TIMESTAMP", Types.TIMESTAMP, 26, "TIMESTAMP '", "'", false, 0, 9, null),
          row(
              "TIMESTAMP WITH TIME ZONE",
              Types.TIMESTAMP_WITH_TIMEZONE,
              32,
              "TIMESTAMPTZ '",
              "'",
              false,
              0,
              6,
              null));

  private XdbcTypes() {}

  private static Object[] row(
      String name,
      int type,
      int size,
      String prefix,
      String suffix,
      boolean caseSensitive,
      Integer minScale,
      Integer maxScale,
      Integer radix) {
    List<String> createParams = type == Types.DECIMAL ? List.of("precision", "scale") : null;
    return new Object[] {
      name,
      type,
      size,
      prefix,
      suffix,
      createParams,
      NULLABLE,
      caseSensitive,
      SEARCHABLE,
      radix == null ? null : Boolean.FALSE,
      type == Types.DECIMAL,
      radix == null ? null : Boolean.FALSE,
      name,
      minScale,
      maxScale,
      type,
      null,
      radix,
      null
    };
  }
}
