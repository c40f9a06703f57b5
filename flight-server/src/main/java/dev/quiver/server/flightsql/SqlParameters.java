package dev.quiver.server.flightsql;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.util.Text;

/**
 * Reads the parameter rows a Flight SQL client binds to a prepared statement (one Arrow batch, one
 * column per parameter) into the Java values DuckDB's JDBC driver binds.
 */
final class SqlParameters {
  private SqlParameters() {}

  /** Every row of {@code batch}, each a list of values in parameter order. */
  static List<List<Object>> rows(VectorSchemaRoot batch) {
    List<List<Object>> rows = new ArrayList<>();
    for (int r = 0; r < batch.getRowCount(); r++) {
      List<Object> row = new ArrayList<>();
      for (FieldVector vector : batch.getFieldVectors()) {
        row.add(value(vector, r));
      }
      rows.add(row);
    }
    return rows;
  }

  /** One value as DuckDB's JDBC driver takes it: strings, numbers, LocalDateTime, ... */
  static Object value(FieldVector vector, int row) {
    if (vector.isNull(row)) {
      return null;
    }
    ArrowType type = vector.getField().getType();
    if (type instanceof ArrowType.Timestamp timestamp && timestamp.getTimezone() != null) {
      long value = ((TimeStampVector) vector).get(row);
      return OffsetDateTime.ofInstant(instant(value, timestamp.getUnit()), ZoneOffset.UTC);
    }
    if (vector instanceof DateDayVector days) {
      return LocalDate.ofEpochDay(days.get(row)).toString();
    }
    Object value = vector.getObject(row);
    if (value instanceof Text || type instanceof ArrowType.Time || type instanceof ArrowType.Date) {
      return value.toString();
    }
    if (value instanceof Character unsigned) {
      return (int) unsigned; // uint16
    }
    if (value instanceof BigDecimal || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    return value;
  }

  private static Instant instant(long value, TimeUnit unit) {
    return switch (unit) {
      case SECOND -> Instant.ofEpochSecond(value);
      case MILLISECOND -> Instant.ofEpochMilli(value);
      case MICROSECOND ->
          Instant.ofEpochSecond(
              Math.floorDiv(value, 1_000_000L), Math.floorMod(value, 1_000_000L) * 1_000L);
      case NANOSECOND ->
          Instant.ofEpochSecond(
              Math.floorDiv(value, 1_000_000_000L), Math.floorMod(value, 1_000_000_000L));
    };
  }
}
