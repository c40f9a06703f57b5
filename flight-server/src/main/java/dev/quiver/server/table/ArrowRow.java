package dev.quiver.server.table;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One row of an Arrow batch seen as an Iceberg {@link StructLike} of the table's top-level columns,
 * in Iceberg's internal representation (int or long, days, microseconds or nanoseconds since the
 * epoch, String, BigDecimal, ByteBuffer): what {@link org.apache.iceberg.PartitionKey#partition}
 * reads. Only the columns a partition spec uses are ever converted.
 *
 * <p>Not thread-safe; {@link #at} moves it to another row of the same root.
 */
final class ArrowRow implements StructLike {
  private final List<FieldVector> vectors;
  private final List<Types.NestedField> columns;
  private int row;

  ArrowRow(VectorSchemaRoot root, org.apache.iceberg.Schema schema) {
    this.vectors = root.getFieldVectors();
    this.columns = schema.columns();
  }

  ArrowRow at(int index) {
    this.row = index;
    return this;
  }

  @Override
  public int size() {
    return vectors.size();
  }

  @Override
  public <T> T get(int pos, Class<T> javaClass) {
    return javaClass.cast(value(vectors.get(pos), columns.get(pos).type(), row));
  }

  @Override
  public <T> void set(int pos, T value) {
    throw new UnsupportedOperationException("ArrowRow is read-only");
  }

  /** The value at {@code row} of {@code vector} as Iceberg holds a value of {@code type}. */
  static Object value(FieldVector vector, Type type, int row) {
    if (vector.isNull(row)) {
      return null;
    }
    switch (type.typeId()) {
      case BOOLEAN:
        return ((BitVector) vector).get(row) != 0;
      case INTEGER:
        return (int) ((BaseIntVector) vector).getValueAsLong(row);
      case LONG:
        return ((BaseIntVector) vector).getValueAsLong(row);
      case FLOAT:
        return ((Float4Vector) vector).get(row);
      case DOUBLE:
        return ((Float8Vector) vector).get(row);
      case DATE:
        return ((DateDayVector) vector).get(row);
      case TIMESTAMP:
        return toUnit(vector, row, TimeUnit.MICROSECOND);
      case TIMESTAMP_NANO:
        return toUnit(vector, row, TimeUnit.NANOSECOND);
      case STRING:
        if (vector instanceof LargeVarCharVector large) {
          return new String(large.get(row), StandardCharsets.UTF_8);
        }
        return new String(((VarCharVector) vector).get(row), StandardCharsets.UTF_8);
      case DECIMAL:
        return ((DecimalVector) vector).getObject(row);
      case BINARY:
        if (vector instanceof LargeVarBinaryVector large) {
          return ByteBuffer.wrap(large.get(row));
        }
        if (vector instanceof FixedSizeBinaryVector fixed) {
          return ByteBuffer.wrap(fixed.get(row));
        }
        return ByteBuffer.wrap(((VarBinaryVector) vector).get(row));
      default:
        throw new IllegalArgumentException("Cannot partition by a column of type " + type);
    }
  }

  private static long toUnit(FieldVector vector, int row, TimeUnit target) {
    long raw = ((TimeStampVector) vector).get(row);
    TimeUnit unit = ((ArrowType.Timestamp) vector.getField().getType()).getUnit();
    return Math.multiplyExact(raw, perUnit(unit, target));
  }

  /** How many {@code target} units one {@code unit} is; the source is never finer than target. */
  private static long perUnit(TimeUnit unit, TimeUnit target) {
    long unitNanos = nanos(unit);
    long targetNanos = nanos(target);
    if (unitNanos < targetNanos) {
      throw new IllegalArgumentException("Cannot convert " + unit + " to " + target);
    }
    return unitNanos / targetNanos;
  }

  private static long nanos(TimeUnit unit) {
    return switch (unit) {
      case SECOND -> 1_000_000_000L;
      case MILLISECOND -> 1_000_000L;
      case MICROSECOND -> 1_000L;
      case NANOSECOND -> 1L;
    };
  }
}
