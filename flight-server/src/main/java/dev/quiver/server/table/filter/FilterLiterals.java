package dev.quiver.server.table.filter;

import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Literal;
import dev.quiver.server.table.parquet.ArrowSchemas;
import io.substrait.proto.Expression;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Locale;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.types.Types;

/**
 * Converts a filter's literal to a column's type, for both Substrait and Iceberg.
 *
 * <p>Conversions are exact: a value that does not fit the column (out of range, too many decimal
 * places, finer than the timestamp unit) is an {@link QuiverErrorCode#INVALID_FILTER} error rather
 * than a rounded value, because a rounded bound changes which rows match.
 */
final class FilterLiterals {
  private static final int MAX_SHOWN_CHARS = 64;
  private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

  private FilterLiterals() {}

  /** A literal converted to one column's type. */
  record ColumnLiteral(
      Expression substrait, org.apache.iceberg.expressions.Literal<?> iceberg, SqlFilter sql) {}

  /** Converts {@code literal} to the type of {@code column}; fails naming table, column, value. */
  static ColumnLiteral convert(TableId table, Field column, Literal literal) {
    if (literal.getValueCase() == Literal.ValueCase.VALUE_NOT_SET) {
      throw invalid(table, "the comparison on column %s has no literal value", column.getName());
    }
    ArrowType type = column.getType();
    switch (type.getTypeID()) {
      case Bool:
        return bool(table, column, literal);
      case Int:
        ArrowType.Int integer = (ArrowType.Int) type;
        if (!integer.getIsSigned() && integer.getBitWidth() == 64) {
          // Arrow compares uint64 with an int64 literal by casting the column to int64, which
          // fails on values above 2^63 - 1; there is no uint64 literal Arrow's consumer reads.
          throw notComparable(table, column);
        }
        return integer(table, column, literal, integer);
      case FloatingPoint:
        return floating(table, column, literal, (ArrowType.FloatingPoint) type);
      case Utf8:
        return string(table, column, literal);
      case Binary:
      case FixedSizeBinary:
        return binary(table, column, literal);
      case Date:
        return date(table, column, literal);
      case Timestamp:
        return timestamp(table, column, literal, (ArrowType.Timestamp) type);
      case Decimal:
        return decimal(table, column, literal, (ArrowType.Decimal) type);
      default:
        throw notComparable(table, column);
    }
  }

  private static QuiverException notComparable(TableId table, Field column) {
    return invalid(
        table,
        "column %s is %s, which filters cannot compare with a literal",
        column.getName(),
        ArrowSchemas.typeName(column));
  }

  private static ColumnLiteral bool(TableId table, Field column, Literal literal) {
    if (literal.getValueCase() != Literal.ValueCase.BOOL_VALUE) {
      throw mismatch(table, column, literal, "not a boolean");
    }
    boolean value = literal.getBoolValue();
    return new ColumnLiteral(
        expression(Expression.Literal.newBuilder().setBoolean(value)),
        org.apache.iceberg.expressions.Literal.of(value),
        SqlFilter.literal("CAST(? AS BOOLEAN)", value));
  }

  private static ColumnLiteral integer(
      TableId table, Field column, Literal literal, ArrowType.Int type) {
    long value = wholeNumber(table, column, literal);
    int bits = type.getBitWidth();
    long min;
    long max;
    if (bits == 64) {
      min = type.getIsSigned() ? Long.MIN_VALUE : 0;
      max = Long.MAX_VALUE;
    } else if (type.getIsSigned()) {
      min = -(1L << (bits - 1));
      max = (1L << (bits - 1)) - 1;
    } else {
      min = 0;
      max = (1L << bits) - 1;
    }
    if (value < min || value > max) {
      throw mismatch(table, column, literal, "out of range");
    }
    Expression.Literal.Builder substrait = Expression.Literal.newBuilder();
    if (!type.getIsSigned() || bits == 64) {
      // Arrow compares uint8..uint32 with an int64 literal by widening both to int64.
      substrait.setI64(value);
    } else if (bits == 8) {
      substrait.setI8((int) value);
    } else if (bits == 16) {
      substrait.setI16((int) value);
    } else {
      substrait.setI32((int) value);
    }
    // Iceberg narrows a long literal to an int column itself.
    org.apache.iceberg.expressions.Literal<?> iceberg =
        org.apache.iceberg.expressions.Literal.of(value);
    return new ColumnLiteral(
        expression(substrait), iceberg, SqlFilter.literal("CAST(? AS BIGINT)", value));
  }

  private static long wholeNumber(TableId table, Field column, Literal literal) {
    switch (literal.getValueCase()) {
      case LONG_VALUE:
        return literal.getLongValue();
      case DOUBLE_VALUE:
        double value = literal.getDoubleValue();
        if (Double.isNaN(value) || Double.isInfinite(value)) {
          throw mismatch(table, column, literal, "not a finite number");
        }
        if (value != Math.rint(value)) {
          throw mismatch(table, column, literal, "not a whole number");
        }
        if (value < -0x1p63 || value >= 0x1p63) {
          throw mismatch(table, column, literal, "out of range");
        }
        return (long) value;
      default:
        throw mismatch(table, column, literal, "not a number");
    }
  }

  private static ColumnLiteral floating(
      TableId table, Field column, Literal literal, ArrowType.FloatingPoint type) {
    double value;
    switch (literal.getValueCase()) {
      case DOUBLE_VALUE:
        value = literal.getDoubleValue();
        break;
      case LONG_VALUE:
        value = literal.getLongValue();
        break;
      default:
        throw mismatch(table, column, literal, "not a number");
    }
    if (Double.isNaN(value)) {
      // Iceberg has no NaN literal (it wants isNaN), and NaN never compares equal anyway.
      throw mismatch(table, column, literal, "NaN, which comparisons do not support");
    }
    if (type.getPrecision() == FloatingPointPrecision.SINGLE) {
      float single = (float) value;
      if (Float.isInfinite(single) && !Double.isInfinite(value)) {
        throw mismatch(table, column, literal, "out of range");
      }
      return new ColumnLiteral(
          expression(Expression.Literal.newBuilder().setFp32(single)),
          org.apache.iceberg.expressions.Literal.of(single),
          SqlFilter.literal("CAST(? AS FLOAT)", (double) single));
    }
    if (type.getPrecision() != FloatingPointPrecision.DOUBLE) {
      throw notComparable(table, column);
    }
    return new ColumnLiteral(
        expression(Expression.Literal.newBuilder().setFp64(value)),
        org.apache.iceberg.expressions.Literal.of(value),
        SqlFilter.literal("CAST(? AS DOUBLE)", value));
  }

  private static ColumnLiteral string(TableId table, Field column, Literal literal) {
    if (literal.getValueCase() != Literal.ValueCase.STRING_VALUE) {
      throw mismatch(table, column, literal, "not a string");
    }
    String value = literal.getStringValue();
    return new ColumnLiteral(
        expression(Expression.Literal.newBuilder().setString(value)),
        org.apache.iceberg.expressions.Literal.of(value),
        SqlFilter.literal("CAST(? AS VARCHAR)", value));
  }

  private static ColumnLiteral binary(TableId table, Field column, Literal literal) {
    if (literal.getValueCase() != Literal.ValueCase.BINARY_VALUE) {
      throw mismatch(table, column, literal, "not binary");
    }
    ByteString value = literal.getBinaryValue();
    Expression.Literal.Builder substrait = Expression.Literal.newBuilder();
    if (column.getType() instanceof ArrowType.FixedSizeBinary) {
      int width = ((ArrowType.FixedSizeBinary) column.getType()).getByteWidth();
      if (value.size() != width) {
        throw mismatch(table, column, literal, "not " + width + " bytes long");
      }
      substrait.setFixedBinary(value);
    } else {
      substrait.setBinary(value);
    }
    return new ColumnLiteral(
        expression(substrait),
        org.apache.iceberg.expressions.Literal.of(ByteBuffer.wrap(value.toByteArray())),
        SqlFilter.literal("unhex(?)", HexFormat.of().formatHex(value.toByteArray())));
  }

  private static ColumnLiteral date(TableId table, Field column, Literal literal) {
    if (((ArrowType.Date) column.getType()).getUnit()
        != org.apache.arrow.vector.types.DateUnit.DAY) {
      throw notComparable(table, column);
    }
    long days;
    switch (literal.getValueCase()) {
      case STRING_VALUE:
        try {
          days = LocalDate.parse(literal.getStringValue()).toEpochDay();
        } catch (DateTimeException e) {
          throw mismatch(table, column, literal, "not an ISO date (yyyy-mm-dd)");
        }
        break;
      case LONG_VALUE:
        days = literal.getLongValue();
        break;
      default:
        throw mismatch(
            table, column, literal, "not an ISO date or a number of days since 1970-01-01");
    }
    if (days < Integer.MIN_VALUE || days > Integer.MAX_VALUE) {
      throw mismatch(table, column, literal, "out of range");
    }
    return new ColumnLiteral(
        expression(Expression.Literal.newBuilder().setDate((int) days)),
        org.apache.iceberg.expressions.Literal.of((int) days).to(Types.DateType.get()),
        SqlFilter.literal("(DATE '1970-01-01' + CAST(? AS INTEGER))", (int) days));
  }

  // Substrait deprecated the microsecond timestamp literals, but they are the ones Arrow reads.
  @SuppressWarnings("deprecation")
  private static ColumnLiteral timestamp(
      TableId table, Field column, Literal literal, ArrowType.Timestamp type) {
    BigInteger perSecond = BigInteger.TEN.pow(SubstraitTypes.precisionDigits(type.getUnit()));
    long value;
    switch (literal.getValueCase()) {
      case LONG_VALUE:
        value = literal.getLongValue();
        break;
      case STRING_VALUE:
        Instant instant = parseInstant(table, column, literal);
        BigDecimal exact =
            BigDecimal.valueOf(instant.getEpochSecond())
                .add(BigDecimal.valueOf(instant.getNano()).divide(NANOS_PER_SECOND))
                .multiply(new BigDecimal(perSecond));
        if (exact.stripTrailingZeros().scale() > 0) {
          throw mismatch(
              table,
              column,
              literal,
              "finer than the column's unit " + ArrowSchemas.unitName(type.getUnit()));
        }
        try {
          value = exact.longValueExact();
        } catch (ArithmeticException e) {
          throw mismatch(table, column, literal, "out of range");
        }
        break;
      default:
        throw mismatch(table, column, literal, "not an ISO timestamp or a number");
    }
    // Arrow's consumer reads only microsecond timestamp literals (not precision_timestamp), and
    // compares them with a column of any unit by casting to the finer unit.
    if (type.getUnit() == TimeUnit.NANOSECOND && value % 1_000L != 0) {
      throw mismatch(
          table, column, literal, "finer than a microsecond, the finest unit filters support");
    }
    long micros;
    try {
      micros = toMicros(value, type.getUnit());
    } catch (ArithmeticException e) {
      throw mismatch(table, column, literal, "out of range");
    }
    Expression.Literal.Builder substrait = Expression.Literal.newBuilder();
    if (type.getTimezone() != null) {
      substrait.setTimestampTz(micros);
    } else {
      substrait.setTimestamp(micros);
    }
    return new ColumnLiteral(
        expression(substrait), icebergTimestamp(micros, type), sqlTimestamp(value, micros, type));
  }

  // DuckDB compares a column of any timestamp type with these exactly: nanosecond columns with a
  // nanosecond value, the others (microseconds, or coarser) with microseconds; the session zone is
  // UTC, so a zoned column compares instants.
  private static SqlFilter sqlTimestamp(long value, long micros, ArrowType.Timestamp type) {
    if (type.getUnit() == TimeUnit.NANOSECOND) {
      return SqlFilter.literal("make_timestamp_ns(CAST(? AS BIGINT))", value);
    }
    return SqlFilter.literal(
        type.getTimezone() == null
            ? "make_timestamp(CAST(? AS BIGINT))"
            : "CAST(make_timestamp(CAST(? AS BIGINT)) AS TIMESTAMPTZ)",
        micros);
  }

  /** {@code value} in {@code unit} as microseconds, truncating nanoseconds. */
  private static long toMicros(long value, TimeUnit unit) {
    switch (unit) {
      case SECOND:
        return Math.multiplyExact(value, 1_000_000L);
      case MILLISECOND:
        return Math.multiplyExact(value, 1_000L);
      case MICROSECOND:
        return value;
      default:
        return value / 1_000L;
    }
  }

  /** A microsecond Iceberg literal: Iceberg converts it exactly to a nanosecond column too. */
  private static org.apache.iceberg.expressions.Literal<?> icebergTimestamp(
      long micros, ArrowType.Timestamp type) {
    return org.apache.iceberg.expressions.Literal.of(micros)
        .to(
            type.getTimezone() != null
                ? Types.TimestampType.withZone()
                : Types.TimestampType.withoutZone());
  }

  private static Instant parseInstant(TableId table, Field column, Literal literal) {
    String text = literal.getStringValue();
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeException withoutOffset) {
      // No offset: the time is UTC, the only zone Quiver's timestamps are stored in.
    }
    try {
      return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
    } catch (DateTimeException notDateTime) {
      // A bare date means its midnight.
    }
    try {
      return LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      throw mismatch(table, column, literal, "not an ISO timestamp");
    }
  }

  private static ColumnLiteral decimal(
      TableId table, Field column, Literal literal, ArrowType.Decimal type) {
    if (type.getBitWidth() != 128) {
      throw notComparable(table, column);
    }
    BigDecimal value;
    switch (literal.getValueCase()) {
      case STRING_VALUE:
        try {
          value = new BigDecimal(literal.getStringValue().trim());
        } catch (NumberFormatException e) {
          throw mismatch(table, column, literal, "not a number");
        }
        break;
      case LONG_VALUE:
        value = BigDecimal.valueOf(literal.getLongValue());
        break;
      case DOUBLE_VALUE:
        double number = literal.getDoubleValue();
        if (Double.isNaN(number) || Double.isInfinite(number)) {
          throw mismatch(table, column, literal, "not a finite number");
        }
        // The shortest decimal that reads back as this double: 0.1 is 0.1, not
        // 0.1000000000000000055.
        value = BigDecimal.valueOf(number);
        break;
      default:
        throw mismatch(table, column, literal, "not a number");
    }
    BigDecimal scaled;
    try {
      scaled = value.setScale(type.getScale(), RoundingMode.UNNECESSARY);
    } catch (ArithmeticException e) {
      throw mismatch(
          table, column, literal, "more precise than the column's scale " + type.getScale());
    }
    if (scaled.precision() > type.getPrecision()) {
      throw mismatch(table, column, literal, "out of range");
    }
    Expression.Literal.Decimal substrait =
        Expression.Literal.Decimal.newBuilder()
            .setValue(ByteString.copyFrom(littleEndian16(scaled.unscaledValue())))
            .setPrecision(type.getPrecision())
            .setScale(type.getScale())
            .build();
    return new ColumnLiteral(
        expression(Expression.Literal.newBuilder().setDecimal(substrait)),
        org.apache.iceberg.expressions.Literal.of(scaled),
        SqlFilter.literal(
            "CAST(? AS DECIMAL(" + type.getPrecision() + ", " + type.getScale() + "))",
            scaled.toPlainString()));
  }

  /**
   * Substrait's decimal value: the unscaled value as 16 bytes of little-endian two's complement.
   */
  private static byte[] littleEndian16(BigInteger unscaled) {
    byte[] bigEndian = unscaled.toByteArray();
    byte[] result = new byte[16];
    byte fill = (byte) (unscaled.signum() < 0 ? 0xFF : 0);
    for (int i = 0; i < 16; i++) {
      int source = bigEndian.length - 1 - i;
      result[i] = source >= 0 ? bigEndian[source] : fill;
    }
    return result;
  }

  private static Expression expression(Expression.Literal.Builder literal) {
    return Expression.newBuilder().setLiteral(literal.setNullable(false)).build();
  }

  static QuiverException invalid(TableId table, String format, Object... args) {
    return new QuiverException(
        QuiverErrorCode.INVALID_FILTER,
        "Invalid filter on table " + table + ": " + String.format(Locale.ROOT, format, args));
  }

  private static QuiverException mismatch(
      TableId table, Field column, Literal literal, String problem) {
    return invalid(
        table,
        "column %s is %s but the literal %s is %s",
        column.getName(),
        ArrowSchemas.typeName(column),
        show(literal),
        problem);
  }

  /** The literal as a user wrote it, shortened: 'abc', 42, 1.5, true, 0x0a0b. */
  static String show(Literal literal) {
    switch (literal.getValueCase()) {
      case BOOL_VALUE:
        return Boolean.toString(literal.getBoolValue());
      case LONG_VALUE:
        return Long.toString(literal.getLongValue());
      case DOUBLE_VALUE:
        return Double.toString(literal.getDoubleValue());
      case STRING_VALUE:
        String text = literal.getStringValue();
        return "'"
            + (text.length() > MAX_SHOWN_CHARS ? text.substring(0, MAX_SHOWN_CHARS) + "..." : text)
            + "'";
      case BINARY_VALUE:
        ByteString bytes = literal.getBinaryValue();
        int shown = Math.min(bytes.size(), MAX_SHOWN_CHARS / 2);
        return "0x"
            + HexFormat.of().formatHex(bytes.substring(0, shown).toByteArray())
            + (shown < bytes.size() ? "..." : "");
      default:
        return "(none)";
    }
  }
}
