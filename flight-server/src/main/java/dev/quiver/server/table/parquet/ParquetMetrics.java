package dev.quiver.server.table.parquet;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Turns DuckDB's RETURN_STATS column statistics of one Parquet file into Iceberg {@link Metrics}.
 *
 * <p>Counts and sizes are recorded for every non-repeated primitive column (top level and inside
 * structs). Bounds are recorded only for top-level int, long (not uint64), boolean, string, date,
 * decimal and timestamp columns, and only when DuckDB says the value is exact and Quiver can parse
 * it exactly: a wrong bound would make Iceberg skip a file that holds matching rows, a missing one
 * only costs a file read. Floating point (NaN and signed zero rules), time, binary and uint64
 * columns get no bounds.
 */
final class ParquetMetrics {
  private ParquetMetrics() {}

  static Metrics from(
      long rows,
      Map<?, ?> statistics,
      Schema tableArrowSchema,
      org.apache.iceberg.Schema icebergSchema) {
    Map<Integer, Long> columnSizes = new HashMap<>();
    Map<Integer, Long> valueCounts = new HashMap<>();
    Map<Integer, Long> nullCounts = new HashMap<>();
    Map<Integer, ByteBuffer> lowerBounds = new HashMap<>();
    Map<Integer, ByteBuffer> upperBounds = new HashMap<>();
    if (statistics != null) {
      List<Field> fields = tableArrowSchema.getFields();
      List<Types.NestedField> columns = icebergSchema.columns();
      for (int i = 0; i < fields.size(); i++) {
        Types.NestedField column = columns.get(i);
        String key = DuckDbParquetWriter.identifier(fields.get(i).getName());
        collect(
            statistics,
            key,
            fields.get(i),
            column,
            true,
            columnSizes,
            valueCounts,
            nullCounts,
            lowerBounds,
            upperBounds);
      }
    }
    return new Metrics(rows, columnSizes, valueCounts, nullCounts, null, lowerBounds, upperBounds);
  }

  private static void collect(
      Map<?, ?> statistics,
      String key,
      Field field,
      Types.NestedField column,
      boolean topLevel,
      Map<Integer, Long> columnSizes,
      Map<Integer, Long> valueCounts,
      Map<Integer, Long> nullCounts,
      Map<Integer, ByteBuffer> lowerBounds,
      Map<Integer, ByteBuffer> upperBounds) {
    Type type = column.type();
    if (type.isStructType()) {
      List<Types.NestedField> children = type.asStructType().fields();
      for (int i = 0; i < children.size(); i++) {
        Field child = field.getChildren().get(i);
        collect(
            statistics,
            key + "." + DuckDbParquetWriter.identifier(child.getName()),
            child,
            children.get(i),
            false,
            columnSizes,
            valueCounts,
            nullCounts,
            lowerBounds,
            upperBounds);
      }
      return;
    }
    if (!type.isPrimitiveType()) {
      return; // lists and maps: repeated values, left to Iceberg's defaults
    }
    if (!(statistics.get(key) instanceof Map)) {
      return;
    }
    Map<?, ?> stats = (Map<?, ?>) statistics.get(key);
    int id = column.fieldId();
    putLong(columnSizes, id, stats.get("column_size_bytes"));
    putLong(valueCounts, id, stats.get("num_values"));
    putLong(nullCounts, id, stats.get("null_count"));
    if (!topLevel) {
      return;
    }
    if ("true".equals(String.valueOf(stats.get("min_is_exact")))) {
      putBound(lowerBounds, id, field, type, stats.get("min"));
    }
    if ("true".equals(String.valueOf(stats.get("max_is_exact")))) {
      putBound(upperBounds, id, field, type, stats.get("max"));
    }
  }

  private static void putLong(Map<Integer, Long> map, int id, Object value) {
    if (value == null) {
      return;
    }
    try {
      map.put(id, Long.parseLong(value.toString()));
    } catch (NumberFormatException e) {
      // An unexpected format: leave the metric out rather than guess.
    }
  }

  private static void putBound(
      Map<Integer, ByteBuffer> bounds, int id, Field field, Type type, Object value) {
    if (value == null) {
      return;
    }
    Object parsed = parseBound(field, type, value.toString());
    if (parsed != null) {
      bounds.put(id, Conversions.toByteBuffer(type, parsed));
    }
  }

  /** The bound as Iceberg's Java value for {@code type}, or null when not surely exact. */
  static Object parseBound(Field field, Type type, String text) {
    ArrowType arrowType = field.getType();
    try {
      switch (type.typeId()) {
        case INTEGER:
          return Integer.parseInt(text);
        case LONG:
          if (arrowType instanceof ArrowType.Int
              && !((ArrowType.Int) arrowType).getIsSigned()
              && ((ArrowType.Int) arrowType).getBitWidth() == 64) {
            return null; // uint64 values above Long.MAX_VALUE do not order as longs
          }
          return Long.parseLong(text);
        case BOOLEAN:
          if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
          }
          return null;
        case STRING:
          return text;
        case DATE:
          if (!(arrowType instanceof ArrowType.Date)
              || ((ArrowType.Date) arrowType).getUnit() != DateUnit.DAY) {
            return null;
          }
          return (int) LocalDate.parse(text).toEpochDay();
        case TIMESTAMP:
          return epoch(text, false);
        case TIMESTAMP_NANO:
          return epoch(text, true);
        case DECIMAL:
          int scale = ((Types.DecimalType) type).scale();
          return new BigDecimal(text).setScale(scale); // throws if it would round
        default:
          return null;
      }
    } catch (NumberFormatException | DateTimeException | ArithmeticException e) {
      return null;
    }
  }

  private static final Pattern NAIVE =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?");
  private static final Pattern ZONED =
      Pattern.compile(
          "(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?)([+-]\\d{2})(?::?(\\d{2}))?");

  /**
   * A timestamp as DuckDB prints it ({@code 2023-11-14 22:13:20.5}, or with {@code +00} in the
   * writer's UTC session) in micros or nanos since the epoch; null for anything else (BC dates,
   * years past 9999) or when micros would lose precision.
   */
  private static Long epoch(String text, boolean nanos) {
    Instant instant;
    Matcher zoned = ZONED.matcher(text);
    if (zoned.matches()) {
      String offset = zoned.group(2) + ":" + (zoned.group(3) == null ? "00" : zoned.group(3));
      instant =
          LocalDateTime.parse(zoned.group(1).replace(' ', 'T')).toInstant(ZoneOffset.of(offset));
    } else if (NAIVE.matcher(text).matches()) {
      instant = LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC);
    } else {
      return null;
    }
    if (nanos) {
      return Math.addExact(
          Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
    }
    if (instant.getNano() % 1_000 != 0) {
      return null;
    }
    return Math.addExact(
        Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
  }
}
