package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.StringJoiner;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeMilliVector;
import org.apache.arrow.vector.TimeNanoVector;
import org.apache.arrow.vector.TimeSecVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A table with a column of every common type Quiver stores, for checking other engines against it
 * value by value: row {@code id} is fully determined by {@code id} ({@link #row}), with extremes
 * (integer bounds, NaN, infinities, -0.0, 38-digit decimals, dates before 1970, empty strings and
 * binaries, non-ASCII text) and a null in every nullable column on different rows.
 *
 * <p>Values are compared in one canonical form whatever the reader: integers as Long, float32 as
 * Float, float64 as Double, text as String, binary as a hex String, decimals as BigDecimal (scale
 * included), date32 as LocalDate, time as LocalTime, timestamps as LocalDateTime (no zone) or
 * Instant (with zone). {@link #fromArrow} and {@link #fromTrino} convert what a reader returns.
 */
final class AllTypesTable {
  static final Schema SCHEMA =
      new Schema(
          List.of(
              new Field("id", FieldType.notNullable(new ArrowType.Int(64, true)), null),
              Field.nullable("i8", new ArrowType.Int(8, true)),
              Field.nullable("i16", new ArrowType.Int(16, true)),
              Field.nullable("i32", new ArrowType.Int(32, true)),
              Field.nullable("i64", new ArrowType.Int(64, true)),
              Field.nullable("f32", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
              Field.nullable("f64", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
              Field.nullable("flag", ArrowType.Bool.INSTANCE),
              Field.nullable("s", ArrowType.Utf8.INSTANCE),
              Field.nullable("ls", ArrowType.LargeUtf8.INSTANCE),
              Field.nullable("bin", ArrowType.Binary.INSTANCE),
              Field.nullable("d38", new ArrowType.Decimal(38, 9, 128)),
              Field.nullable("d9", new ArrowType.Decimal(9, 2, 128)),
              Field.nullable("d18", new ArrowType.Decimal(18, 4, 128)),
              Field.nullable("day", new ArrowType.Date(org.apache.arrow.vector.types.DateUnit.DAY)),
              Field.nullable("tod", new ArrowType.Time(TimeUnit.MICROSECOND, 64)),
              Field.nullable("ts", new ArrowType.Timestamp(TimeUnit.MICROSECOND, null)),
              Field.nullable("tstz", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"))));

  /** The column names, in order, for SQL. */
  static final String COLUMNS =
      String.join(", ", SCHEMA.getFields().stream().map(Field::getName).toList());

  private static final float[] FLOATS = {
    Float.NaN,
    Float.POSITIVE_INFINITY,
    Float.NEGATIVE_INFINITY,
    -0.0f,
    Float.MIN_VALUE,
    Float.MAX_VALUE
  };
  private static final double[] DOUBLES = {
    Double.NaN,
    Double.POSITIVE_INFINITY,
    Double.NEGATIVE_INFINITY,
    -0.0,
    Double.MIN_VALUE,
    Double.MAX_VALUE
  };
  private static final BigInteger MAX_38 = BigInteger.TEN.pow(38).subtract(BigInteger.ONE);
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

  /** Trino's timestamp text: as many fraction digits as the type's precision. */
  private static final DateTimeFormatter TRINO_TIMESTAMP =
      new DateTimeFormatterBuilder()
          .appendPattern("yyyy-MM-dd HH:mm:ss")
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .toFormatter();

  private static final long MICROS_PER_DAY = 86_400_000_000L;

  private AllTypesTable() {}

  /** The canonical values of row {@code id}, in {@link #SCHEMA}'s order. */
  static List<Object> row(long id) {
    List<Object> row = new ArrayList<>(SCHEMA.getFields().size());
    row.add(id);
    row.add((long) (byte) (id % 256 - 128));
    row.add((long) (short) (id * 37 % 65_536 - 32_768));
    row.add(
        id % 5 == 1
            ? (long) Integer.MIN_VALUE
            : id % 5 == 2 ? (long) Integer.MAX_VALUE : (long) (int) (id * 2_654_435_761L));
    row.add(
        id % 5 == 1 ? Long.MIN_VALUE : id % 5 == 2 ? Long.MAX_VALUE : id * 0x9E37_79B9_7F4A_7C15L);
    row.add(id % 10 < FLOATS.length ? FLOATS[(int) (id % 10)] : (float) (id / 7.0));
    row.add(id % 10 < DOUBLES.length ? DOUBLES[(int) (id % 10)] : id / 7.0 - 1e10);
    row.add(id % 3 == 0);
    row.add(
        switch ((int) (id % 4)) {
          case 0 -> "";
          case 1 -> "row-" + id;
          case 2 -> "é日本🙂-" + id;
          default -> "quote' \"back\\slash\nline-" + id;
        });
    row.add("L".repeat((int) (id % 300)) + id);
    byte[] bytes = {(byte) id, 0, (byte) 0xff, (byte) (id >> 8), 0x7f};
    row.add(HexFormat.of().formatHex(bytes, 0, (int) (id % 6)));
    BigInteger big =
        id % 7 == 0
            ? MAX_38
            : BigInteger.valueOf(id)
                .multiply(BigInteger.TEN.pow(27))
                .add(BigInteger.valueOf(id * 12_345));
    row.add(new BigDecimal(id % 2 == 1 ? big.negate() : big, 9));
    row.add(BigDecimal.valueOf((id * 99_991 % 1_000_000_000) * (id % 2 == 1 ? -1 : 1), 2));
    row.add(BigDecimal.valueOf(id * 0x9E37_79B9_7F4A_7C15L % 1_000_000_000_000_000_000L, 4));
    row.add(LocalDate.of(1900, 1, 1).plusDays(id * 37 % 110_000));
    row.add(LocalTime.ofNanoOfDay(id * 1_234_567_891L % MICROS_PER_DAY * 1000));
    row.add(micros((id - 1500) * (MICROS_PER_DAY + 123) + id * 7919));
    row.add(
        Instant.EPOCH.plusNanos(
            (1_700_000_000_000_000L + id * 1_000_003L * (id % 2 == 0 ? 1 : -1000)) * 1000));
    // Column c is null on rows where (id + c) % 13 == 0; every column is null on row 7 mod 1000.
    for (int c = 1; c < row.size(); c++) {
      if ((id + c) % 13 == 0 || id % 1000 == 7) {
        row.set(c, null);
      }
    }
    return row;
  }

  /** The rows with ids {@code [first, first + count)}. */
  static List<List<Object>> rows(long first, long count) {
    List<List<Object>> rows = new ArrayList<>();
    for (long id = first; id < first + count; id++) {
      rows.add(row(id));
    }
    return rows;
  }

  /** Loads rows {@code [first, first + count)} into {@code root}, which has {@link #SCHEMA}. */
  static void fill(VectorSchemaRoot root, long first, int count) {
    root.allocateNew();
    for (int i = 0; i < count; i++) {
      List<Object> row = project(row(first + i), root.getSchema());
      for (int c = 0; c < row.size(); c++) {
        set(root.getVector(c), i, row.get(c));
      }
    }
    root.setRowCount(count);
  }

  /** Appends rows {@code [first, first + count)} with the columns of {@code schema} in one put. */
  static void put(
      QuiverClient client,
      BufferAllocator allocator,
      TableId table,
      Schema schema,
      long first,
      int count) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      fill(root, first, count);
      assertThat(client.put(table, root).rows()).isEqualTo(count);
    }
  }

  /** Every row of {@code table} through the SDK's DoGet, canonical. */
  static List<List<Object>> scan(QuiverClient client, TableId table) throws IOException {
    List<List<Object>> rows = new ArrayList<>();
    try (ArrowReader reader = client.scan(table)) {
      while (reader.loadNextBatch()) {
        rows.addAll(fromArrow(reader.getVectorSchemaRoot()));
      }
    }
    return rows;
  }

  /** {@link #SCHEMA} without {@code column} (Spark 4.0 has no type for Iceberg's time). */
  static Schema without(String column) {
    return new Schema(
        SCHEMA.getFields().stream().filter(f -> !f.getName().equals(column)).toList());
  }

  /** The values of {@code row} (in {@link #SCHEMA}'s order) for the columns of {@code schema}. */
  static List<Object> project(List<Object> row, Schema schema) {
    List<Object> projected = new ArrayList<>();
    for (Field field : schema.getFields()) {
      projected.add(row.get(SCHEMA.getFields().indexOf(SCHEMA.findField(field.getName()))));
    }
    return projected;
  }

  /** The rows with ids {@code [first, first + count)}, with the columns of {@code schema}. */
  static List<List<Object>> rows(long first, long count, Schema schema) {
    return rows(first, count).stream().map(row -> project(row, schema)).toList();
  }

  private static void set(FieldVector vector, int i, Object value) {
    if (value == null) {
      vector.setNull(i);
    } else if (vector instanceof TinyIntVector v) {
      v.setSafe(i, (byte) (long) (Long) value);
    } else if (vector instanceof SmallIntVector v) {
      v.setSafe(i, (short) (long) (Long) value);
    } else if (vector instanceof IntVector v) {
      v.setSafe(i, (int) (long) (Long) value);
    } else if (vector instanceof BigIntVector v) {
      v.setSafe(i, (Long) value);
    } else if (vector instanceof Float4Vector v) {
      v.setSafe(i, (Float) value);
    } else if (vector instanceof Float8Vector v) {
      v.setSafe(i, (Double) value);
    } else if (vector instanceof BitVector v) {
      v.setSafe(i, (Boolean) value ? 1 : 0);
    } else if (vector instanceof VarCharVector v) {
      v.setSafe(i, ((String) value).getBytes(StandardCharsets.UTF_8));
    } else if (vector instanceof LargeVarCharVector v) {
      v.setSafe(i, ((String) value).getBytes(StandardCharsets.UTF_8));
    } else if (vector instanceof VarBinaryVector v) {
      v.setSafe(i, HexFormat.of().parseHex((String) value));
    } else if (vector instanceof DecimalVector v) {
      v.setSafe(i, (BigDecimal) value);
    } else if (vector instanceof DateDayVector v) {
      v.setSafe(i, (int) ((LocalDate) value).toEpochDay());
    } else if (vector instanceof TimeMicroVector v) {
      v.setSafe(i, ((LocalTime) value).toNanoOfDay() / 1000);
    } else if (vector instanceof TimeStampVector v) {
      v.setSafe(
          i,
          value instanceof Instant instant
              ? instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000
              : micros((LocalDateTime) value));
    } else {
      throw new IllegalArgumentException("No test values for " + vector.getField());
    }
  }

  /** The canonical value at {@code index} of {@code vector}, whatever Arrow type a reader chose. */
  static Object fromArrow(FieldVector vector, int index) {
    if (vector.isNull(index)) {
      return null;
    }
    ArrowType type = vector.getField().getType();
    return switch (type.getTypeID()) {
      case Int -> ((BaseIntVector) vector).getValueAsLong(index);
      case FloatingPoint ->
          ((ArrowType.FloatingPoint) type).getPrecision() == FloatingPointPrecision.SINGLE
              ? (Object) ((Float4Vector) vector).get(index)
              : (Object) ((Float8Vector) vector).get(index);
      case Bool -> ((BitVector) vector).get(index) == 1;
      case Utf8, LargeUtf8 -> vector.getObject(index).toString();
      case Binary, LargeBinary, FixedSizeBinary ->
          HexFormat.of().formatHex((byte[]) vector.getObject(index));
      case Decimal -> vector.getObject(index);
      case Date -> LocalDate.ofEpochDay(((DateDayVector) vector).get(index));
      case Time -> LocalTime.ofNanoOfDay(timeNanos(vector, index));
      case Timestamp -> {
        ArrowType.Timestamp ts = (ArrowType.Timestamp) type;
        long micros = toMicros(((TimeStampVector) vector).get(index), ts.getUnit());
        yield ts.getTimezone() == null
            ? micros(micros)
            : Instant.EPOCH.plusNanos(Math.multiplyExact(micros, 1000L));
      }
      default -> throw new IllegalArgumentException("No canonical form for " + vector.getField());
    };
  }

  /** Every row of {@code root}, canonical. */
  static List<List<Object>> fromArrow(VectorSchemaRoot root) {
    List<List<Object>> rows = new ArrayList<>();
    for (int i = 0; i < root.getRowCount(); i++) {
      List<Object> row = new ArrayList<>();
      for (FieldVector vector : root.getFieldVectors()) {
        row.add(fromArrow(vector, i));
      }
      rows.add(row);
    }
    return rows;
  }

  /**
   * The canonical value of Trino's JSON rendering {@code value} of a column of Trino type {@code
   * type} (null for SQL NULL).
   */
  static Object fromTrino(String type, JsonNode value) {
    if (value == null) {
      return null;
    }
    String text = value.asText();
    if (type.startsWith("decimal")) {
      return new BigDecimal(text);
    }
    if (type.startsWith("varchar")) {
      return text;
    }
    if (type.startsWith("timestamp")) {
      if (!type.endsWith("with time zone")) {
        return LocalDateTime.parse(text, TRINO_TIMESTAMP);
      }
      int zone = text.lastIndexOf(' ');
      return LocalDateTime.parse(text.substring(0, zone), TRINO_TIMESTAMP)
          .atZone(ZoneId.of(text.substring(zone + 1)))
          .toInstant();
    }
    if (type.startsWith("time")) {
      return LocalTime.parse(text);
    }
    return switch (type) {
      case "tinyint", "smallint", "integer", "bigint" -> value.asLong();
      // NaN and the infinities come as strings; numbers are Float.toString, which reads back.
      case "real" -> value.isTextual() ? Float.parseFloat(text) : (float) value.doubleValue();
      case "double" -> value.isTextual() ? Double.parseDouble(text) : value.doubleValue();
      case "boolean" -> value.asBoolean();
      case "varbinary" -> HexFormat.of().formatHex(Base64.getDecoder().decode(text));
      case "date" -> LocalDate.parse(text);
      default ->
          throw new IllegalArgumentException(
              "No canonical form for Trino type " + type + " (value " + value + ")");
    };
  }

  /** Every row of a Trino result, canonical. */
  static List<List<Object>> fromTrino(TrinoClient.Result result) {
    List<List<Object>> rows = new ArrayList<>();
    for (List<JsonNode> values : result.rows()) {
      List<Object> row = new ArrayList<>();
      for (int c = 0; c < values.size(); c++) {
        row.add(fromTrino(result.columns().get(c).type(), values.get(c)));
      }
      rows.add(row);
    }
    return rows;
  }

  /**
   * The canonical value of one of SparkSql's typed strings ({@code "F:-0.0"}; null for SQL NULL).
   */
  static Object fromSpark(String typed) {
    if (typed == null) {
      return null;
    }
    int colon = typed.indexOf(':');
    String text = typed.substring(colon + 1);
    return switch (typed.substring(0, colon)) {
      case "I" -> Long.parseLong(text);
      case "F" -> Float.parseFloat(text);
      case "D" -> Double.parseDouble(text);
      case "B" -> Boolean.parseBoolean(text);
      case "S", "X" -> text;
      case "N" -> new BigDecimal(text);
      case "DATE" -> LocalDate.parse(text);
      case "TS" -> LocalDateTime.parse(text);
      case "TSZ" -> Instant.parse(text);
      default -> throw new IllegalArgumentException("No canonical form for " + typed);
    };
  }

  /**
   * Row {@code id} as a Spark SQL {@code VALUES} tuple of literals for the columns of {@code
   * schema}.
   */
  static String sparkValues(long id, Schema schema) {
    List<Object> row = project(row(id), schema);
    StringJoiner tuple = new StringJoiner(", ", "(", ")");
    for (int c = 0; c < row.size(); c++) {
      tuple.add(sparkLiteral(schema.getFields().get(c).getType(), row.get(c)));
    }
    return tuple.toString();
  }

  private static String sparkLiteral(ArrowType type, Object value) {
    if (value == null) {
      return "NULL";
    }
    return switch (type.getTypeID()) {
      case Int ->
          "CAST('"
              + value
              + "' AS "
              + (((ArrowType.Int) type).getBitWidth() == 64 ? "BIGINT)" : "INT)");
      case FloatingPoint ->
          "CAST('" + value + "' AS " + (value instanceof Float ? "FLOAT)" : "DOUBLE)");
      case Bool -> value.toString();
      // Spark's string literals take backslash escapes.
      case Utf8, LargeUtf8 ->
          "'" + ((String) value).replace("\\", "\\\\").replace("'", "\\'") + "'";
      case Binary -> "X'" + value + "'";
      case Decimal -> {
        ArrowType.Decimal decimal = (ArrowType.Decimal) type;
        yield "CAST('"
            + ((BigDecimal) value).toPlainString()
            + "' AS DECIMAL("
            + decimal.getPrecision()
            + ","
            + decimal.getScale()
            + "))";
      }
      case Date -> "DATE '" + value + "'";
      // The session's time zone is UTC.
      case Timestamp ->
          value instanceof Instant instant
              ? "TIMESTAMP '" + TIMESTAMP.format(instant.atOffset(ZoneOffset.UTC)) + "'"
              : "TIMESTAMP_NTZ '" + TIMESTAMP.format((LocalDateTime) value) + "'";
      default -> throw new IllegalArgumentException("No Spark literal for " + type);
    };
  }

  /** Row {@code id} as a Trino {@code VALUES} tuple of literals, typed as the table's columns. */
  static String trinoValues(long id) {
    List<Object> row = row(id);
    StringJoiner tuple = new StringJoiner(", ", "(", ")");
    for (int c = 0; c < row.size(); c++) {
      tuple.add(trinoLiteral(SCHEMA.getFields().get(c).getType(), row.get(c)));
    }
    return tuple.toString();
  }

  private static String trinoLiteral(ArrowType type, Object value) {
    if (value == null) {
      return "NULL";
    }
    return switch (type.getTypeID()) {
      // Iceberg int for 8, 16 and 32 bits (Trino integer), long for 64.
      case Int ->
          (((ArrowType.Int) type).getBitWidth() == 64 ? "BIGINT '" : "INTEGER '") + value + "'";
      case FloatingPoint -> (value instanceof Float ? "REAL '" : "DOUBLE '") + value + "'";
      case Bool -> value.toString();
      case Utf8, LargeUtf8 -> "'" + ((String) value).replace("'", "''") + "'";
      case Binary -> "X'" + value + "'";
      case Decimal -> "DECIMAL '" + ((BigDecimal) value).toPlainString() + "'";
      case Date -> "DATE '" + value + "'";
      case Time -> "TIME '" + TIME.format((LocalTime) value) + "'";
      case Timestamp ->
          value instanceof Instant instant
              ? "TIMESTAMP '" + TIMESTAMP.format(instant.atOffset(ZoneOffset.UTC)) + " UTC'"
              : "TIMESTAMP '" + TIMESTAMP.format((LocalDateTime) value) + "'";
      default -> throw new IllegalArgumentException("No Trino literal for " + type);
    };
  }

  /** Asserts that {@code actual}, sorted by id, is {@code expected}, naming the first bad cell. */
  static void assertRows(String what, List<List<Object>> actual, List<List<Object>> expected) {
    assertRows(what, SCHEMA, actual, expected);
  }

  /** As {@link #assertRows(String, List, List)}, for rows with the columns of {@code schema}. */
  static void assertRows(
      String what, Schema schema, List<List<Object>> actual, List<List<Object>> expected) {
    List<List<Object>> sorted = new ArrayList<>(actual);
    sorted.sort(Comparator.comparingLong(row -> (Long) row.get(0)));
    assertThat(sorted.stream().map(row -> row.get(0)).toList())
        .as("%s: the ids", what)
        .isEqualTo(expected.stream().map(row -> row.get(0)).toList());
    for (int r = 0; r < expected.size(); r++) {
      for (int c = 0; c < expected.get(r).size(); c++) {
        assertThat(sorted.get(r).get(c))
            .as(
                "%s: column %s of row id %s",
                what, schema.getFields().get(c).getName(), expected.get(r).get(0))
            .isEqualTo(expected.get(r).get(c));
      }
      assertThat(sorted.get(r))
          .as("%s: row id %s", what, expected.get(r).get(0))
          .hasSameSizeAs(expected.get(r));
    }
  }

  private static long timeNanos(FieldVector vector, int index) {
    if (vector instanceof TimeSecVector v) {
      return v.get(index) * 1_000_000_000L;
    } else if (vector instanceof TimeMilliVector v) {
      return v.get(index) * 1_000_000L;
    } else if (vector instanceof TimeMicroVector v) {
      return v.get(index) * 1000L;
    } else if (vector instanceof TimeNanoVector v) {
      return v.get(index);
    }
    throw new IllegalArgumentException("Not a time vector: " + vector.getField());
  }

  private static long toMicros(long value, TimeUnit unit) {
    return switch (unit) {
      case SECOND -> value * 1_000_000L;
      case MILLISECOND -> value * 1000L;
      case MICROSECOND -> value;
      case NANOSECOND -> Math.floorDiv(value, 1000L);
    };
  }

  private static LocalDateTime micros(long micros) {
    return LocalDateTime.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L),
        (int) Math.floorMod(micros, 1_000_000L) * 1000,
        ZoneOffset.UTC);
  }

  private static long micros(LocalDateTime value) {
    return value.toEpochSecond(ZoneOffset.UTC) * 1_000_000L + value.getNano() / 1000;
  }
}
