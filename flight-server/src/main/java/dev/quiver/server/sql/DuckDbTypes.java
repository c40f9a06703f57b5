package dev.quiver.server.sql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.IntervalUnit;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Translates between Arrow types and DuckDB's SQL type names.
 *
 * <p>Arrow to DuckDB types the columns of an empty table's view, so a table with no data still has
 * its columns' types. DuckDB to Arrow describes a prepared statement's parameters and result before
 * it runs; the types a result really has come from DuckDB's Arrow export when it runs.
 */
final class DuckDbTypes {
  private static final Pattern DECIMAL = Pattern.compile("DECIMAL\\((\\d+),\\s*(\\d+)\\)");

  private DuckDbTypes() {}

  /**
   * The DuckDB type a Quiver column has once written to Parquet and read back by DuckDB, as SQL.
   *
   * @throws QuiverException UNSUPPORTED_TYPE for types DuckDB cannot hold
   */
  static String sqlType(Field field) {
    ArrowType type = field.getType();
    switch (type.getTypeID()) {
      case Bool:
        return "BOOLEAN";
      case Int:
        return intType((ArrowType.Int) type);
      case FloatingPoint:
        return ((ArrowType.FloatingPoint) type).getPrecision() == FloatingPointPrecision.DOUBLE
            ? "DOUBLE"
            : "FLOAT";
      case Utf8:
      case LargeUtf8:
      case Utf8View:
        return "VARCHAR";
      case Binary:
      case LargeBinary:
      case BinaryView:
      case FixedSizeBinary:
        return "BLOB";
      case Decimal:
        ArrowType.Decimal decimal = (ArrowType.Decimal) type;
        return "DECIMAL(" + decimal.getPrecision() + "," + decimal.getScale() + ")";
      case Date:
        return "DATE";
      case Time:
        return "TIME";
      case Timestamp:
        return timestampType((ArrowType.Timestamp) type);
      case Interval:
      case Duration:
        return "INTERVAL";
      case List:
      case LargeList:
        return sqlType(field.getChildren().get(0)) + "[]";
      case FixedSizeList:
        return sqlType(field.getChildren().get(0))
            + "["
            + ((ArrowType.FixedSizeList) type).getListSize()
            + "]";
      case Struct:
        StringBuilder struct = new StringBuilder("STRUCT(");
        for (int i = 0; i < field.getChildren().size(); i++) {
          Field child = field.getChildren().get(i);
          struct.append(i == 0 ? "" : ", ").append(SqlText.identifier(child.getName()));
          struct.append(' ').append(sqlType(child));
        }
        return struct.append(')').toString();
      case Map:
        Field entries = field.getChildren().get(0);
        return "MAP("
            + sqlType(entries.getChildren().get(0))
            + ", "
            + sqlType(entries.getChildren().get(1))
            + ")";
      default:
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_TYPE,
            "Column %s has type %s, which SQL cannot read",
            field.getName(),
            type);
    }
  }

  private static String intType(ArrowType.Int type) {
    String name =
        switch (type.getBitWidth()) {
          case 8 -> "TINYINT";
          case 16 -> "SMALLINT";
          case 32 -> "INTEGER";
          default -> "BIGINT";
        };
    return type.getIsSigned() ? name : "U" + name;
  }

  // The Parquet writer stores zoned nanoseconds as plain nanoseconds (DuckDB's TIMESTAMPTZ is
  // microseconds), and Parquet has no seconds, so those come back as milliseconds.
  private static String timestampType(ArrowType.Timestamp type) {
    if (type.getUnit() == TimeUnit.NANOSECOND) {
      return "TIMESTAMP_NS";
    }
    if (type.getTimezone() != null) {
      return "TIMESTAMPTZ";
    }
    return switch (type.getUnit()) {
      case SECOND, MILLISECOND -> "TIMESTAMP_MS";
      default -> "TIMESTAMP";
    };
  }

  /**
   * The Arrow type DuckDB exports for a value of the DuckDB type named {@code name} (as JDBC
   * metadata spells it), or null when DuckDB does not know it yet (an untyped parameter).
   */
  static ArrowType arrowType(String name) {
    String upper = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
    Matcher decimal = DECIMAL.matcher(upper);
    if (decimal.matches()) {
      return new ArrowType.Decimal(
          Integer.parseInt(decimal.group(1)), Integer.parseInt(decimal.group(2)), 128);
    }
    return switch (upper) {
      case "BOOLEAN" -> ArrowType.Bool.INSTANCE;
      case "TINYINT" -> new ArrowType.Int(8, true);
      case "SMALLINT" -> new ArrowType.Int(16, true);
      case "INTEGER" -> new ArrowType.Int(32, true);
      case "BIGINT" -> new ArrowType.Int(64, true);
      case "UTINYINT" -> new ArrowType.Int(8, false);
      case "USMALLINT" -> new ArrowType.Int(16, false);
      case "UINTEGER" -> new ArrowType.Int(32, false);
      case "UBIGINT" -> new ArrowType.Int(64, false);
      case "HUGEINT" -> new ArrowType.Decimal(38, 0, 128);
      case "FLOAT" -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case "DOUBLE" -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case "VARCHAR", "UUID", "JSON" -> ArrowType.Utf8.INSTANCE;
      case "BLOB" -> ArrowType.Binary.INSTANCE;
      case "DATE" -> new ArrowType.Date(DateUnit.DAY);
      case "TIME" -> new ArrowType.Time(TimeUnit.MICROSECOND, 64);
      case "TIMESTAMP" -> new ArrowType.Timestamp(TimeUnit.MICROSECOND, null);
      case "TIMESTAMP_S" -> new ArrowType.Timestamp(TimeUnit.SECOND, null);
      case "TIMESTAMP_MS" -> new ArrowType.Timestamp(TimeUnit.MILLISECOND, null);
      case "TIMESTAMP_NS" -> new ArrowType.Timestamp(TimeUnit.NANOSECOND, null);
      case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ" ->
          new ArrowType.Timestamp(TimeUnit.MICROSECOND, SqlEngine.TIME_ZONE);
      case "INTERVAL" -> new ArrowType.Interval(IntervalUnit.MONTH_DAY_NANO);
      case "", "UNKNOWN", "INVALID", "NULL", "\"NULL\"" -> null;
      default -> ArrowType.Utf8.INSTANCE;
    };
  }
}
