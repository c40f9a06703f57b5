package dev.quiver.server.table.parquet;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.Float16;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * Moves the data of one vector into a vector of another, equivalent Arrow type at the buffer level:
 * zero-copy where the layouts match (names, nullability, time zone labels, map entry names differ),
 * converting only the buffers whose layout differs (offset width, value width, unit).
 *
 * <p>{@link #copyInto} works like {@code VectorLoader}: the target retains the source's buffers (or
 * the newly made ones), so the source may be cleared or reused afterwards. Not thread-safe per
 * vector; callers own both vectors.
 */
final class VectorConversions {
  private VectorConversions() {}

  /**
   * Replaces {@code target}'s contents with {@code source}'s values, recursively.
   *
   * @throws IllegalStateException when the types are not equivalent
   */
  static void copyInto(FieldVector source, FieldVector target, BufferAllocator allocator) {
    ArrowType from = source.getField().getType();
    ArrowType to = target.getField().getType();
    ArrowFieldNode node = new ArrowFieldNode(source.getValueCount(), source.getNullCount());
    if (sameLayout(from, to)) {
      target.loadFieldBuffers(node, source.getFieldBuffers());
    } else {
      Conversion kind = conversionKind(from, to);
      if (kind == null) {
        throw new IllegalStateException("Cannot convert " + from + " to " + to);
      }
      List<ArrowBuf> made = new ArrayList<>(1);
      try {
        target.loadFieldBuffers(node, convertBuffers(kind, source, from, to, allocator, made));
      } finally {
        made.forEach(ArrowBuf::close); // the target retained what it needs
      }
    }
    List<FieldVector> sourceChildren = source.getChildrenFromFields();
    List<FieldVector> targetChildren = target.getChildrenFromFields();
    if (sourceChildren.size() != targetChildren.size()) {
      throw new IllegalStateException(
          "Cannot convert " + source.getField() + " to " + target.getField());
    }
    for (int i = 0; i < sourceChildren.size(); i++) {
      copyInto(sourceChildren.get(i), targetChildren.get(i), allocator);
    }
  }

  private enum Conversion {
    WIDEN_OFFSETS,
    TO_FIXED_SIZE_BINARY,
    UUID_TEXT_TO_BYTES,
    FLOAT32_TO_FLOAT16,
    FLOAT16_TO_FLOAT32,
    DIVIDE_64_TO_32,
    DIVIDE_64_TO_64
  }

  private static boolean sameLayout(ArrowType from, ArrowType to) {
    if (from instanceof ArrowType.Timestamp && to instanceof ArrowType.Timestamp) {
      return ((ArrowType.Timestamp) from).getUnit() == ((ArrowType.Timestamp) to).getUnit();
    }
    if (from instanceof ArrowType.Map && to instanceof ArrowType.Map) {
      return true; // keysSorted is a label
    }
    return from.equals(to);
  }

  private static Conversion conversionKind(ArrowType from, ArrowType to) {
    if ((from instanceof ArrowType.Utf8 && to instanceof ArrowType.LargeUtf8)
        || (from instanceof ArrowType.Binary && to instanceof ArrowType.LargeBinary)
        || (from instanceof ArrowType.List && to instanceof ArrowType.LargeList)) {
      return Conversion.WIDEN_OFFSETS;
    }
    if (from instanceof ArrowType.Binary && to instanceof ArrowType.FixedSizeBinary) {
      return Conversion.TO_FIXED_SIZE_BINARY;
    }
    // DuckDB exports an Iceberg uuid (Parquet UUID) as its text form.
    if (from instanceof ArrowType.Utf8
        && to instanceof ArrowType.FixedSizeBinary
        && ((ArrowType.FixedSizeBinary) to).getByteWidth() == 16) {
      return Conversion.UUID_TEXT_TO_BYTES;
    }
    if (from instanceof ArrowType.FloatingPoint && to instanceof ArrowType.FloatingPoint) {
      FloatingPointPrecision fromPrecision = ((ArrowType.FloatingPoint) from).getPrecision();
      FloatingPointPrecision toPrecision = ((ArrowType.FloatingPoint) to).getPrecision();
      if (fromPrecision == FloatingPointPrecision.SINGLE
          && toPrecision == FloatingPointPrecision.HALF) {
        return Conversion.FLOAT32_TO_FLOAT16;
      }
      if (fromPrecision == FloatingPointPrecision.HALF
          && toPrecision == FloatingPointPrecision.SINGLE) {
        return Conversion.FLOAT16_TO_FLOAT32;
      }
      return null;
    }
    if (from instanceof ArrowType.Time && to instanceof ArrowType.Time) {
      ArrowType.Time fromTime = (ArrowType.Time) from;
      ArrowType.Time toTime = (ArrowType.Time) to;
      if (fromTime.getBitWidth() == 64
          && toTime.getBitWidth() == 32
          && divisor(fromTime.getUnit(), toTime.getUnit()) > 0) {
        return Conversion.DIVIDE_64_TO_32;
      }
      return null;
    }
    if (from instanceof ArrowType.Timestamp && to instanceof ArrowType.Timestamp) {
      if (divisor(((ArrowType.Timestamp) from).getUnit(), ((ArrowType.Timestamp) to).getUnit())
          > 0) {
        return Conversion.DIVIDE_64_TO_64;
      }
    }
    return null;
  }

  /**
   * Writes the 16 bytes of the uuid text {@code data[start, end)} (8-4-4-4-12 hex) at {@code at}.
   */
  private static void uuidBytes(ArrowBuf data, int start, int end, ArrowBuf out, long at) {
    int nibbles = 0;
    for (int p = start; p < end; p++) {
      int c = data.getByte(p);
      if (c == '-') {
        continue;
      }
      int digit = Character.digit(c, 16);
      if (digit < 0 || nibbles >= 32) {
        throw new IllegalStateException("A uuid value has a character that is not a hex digit");
      }
      long index = at + nibbles / 2;
      byte current = nibbles % 2 == 0 ? 0 : out.getByte(index);
      out.setByte(index, nibbles % 2 == 0 ? digit << 4 : current | digit);
      nibbles++;
    }
    if (nibbles != 32) {
      throw new IllegalStateException("A uuid value has " + nibbles + " hex digits, not 32");
    }
  }

  /** How many {@code from} units make one {@code to} unit, or -1 when {@code to} is not coarser. */
  private static long divisor(TimeUnit from, TimeUnit to) {
    int steps = from.ordinal() - to.ordinal(); // SECOND, MILLISECOND, MICROSECOND, NANOSECOND
    if (steps <= 0) {
      return -1;
    }
    long divisor = 1;
    for (int i = 0; i < steps; i++) {
      divisor *= 1000;
    }
    return divisor;
  }

  private static List<ArrowBuf> convertBuffers(
      Conversion kind,
      FieldVector source,
      ArrowType from,
      ArrowType to,
      BufferAllocator allocator,
      List<ArrowBuf> made) {
    int count = source.getValueCount();
    List<ArrowBuf> buffers = source.getFieldBuffers();
    ArrowBuf validity = buffers.get(0);
    switch (kind) {
      case WIDEN_OFFSETS:
        {
          ArrowBuf offsets = buffers.get(1);
          ArrowBuf wide = track(made, allocator.buffer((count + 1L) * Long.BYTES));
          for (int i = 0; i <= count; i++) {
            long offset = offsets.capacity() == 0 ? 0 : offsets.getInt((long) i * Integer.BYTES);
            wide.setLong((long) i * Long.BYTES, offset);
          }
          wide.writerIndex((count + 1L) * Long.BYTES);
          List<ArrowBuf> result = new ArrayList<>(buffers);
          result.set(1, wide);
          return result;
        }
      case TO_FIXED_SIZE_BINARY:
        {
          int width = ((ArrowType.FixedSizeBinary) to).getByteWidth();
          ArrowBuf offsets = buffers.get(1);
          ArrowBuf data = buffers.get(2);
          ArrowBuf fixed = track(made, allocator.buffer((long) count * width));
          fixed.setZero(0, fixed.capacity());
          for (int i = 0; i < count; i++) {
            if (source.isNull(i)) {
              continue;
            }
            int start = offsets.getInt((long) i * Integer.BYTES);
            int end = offsets.getInt((long) (i + 1) * Integer.BYTES);
            if (end - start != width) {
              throw new IllegalStateException(
                  "Value " + i + " has " + (end - start) + " bytes, not " + width);
            }
            fixed.setBytes((long) i * width, data, start, width);
          }
          fixed.writerIndex((long) count * width);
          return List.of(validity, fixed);
        }
      case UUID_TEXT_TO_BYTES:
        {
          ArrowBuf offsets = buffers.get(1);
          ArrowBuf data = buffers.get(2);
          ArrowBuf fixed = track(made, allocator.buffer((long) count * 16));
          fixed.setZero(0, fixed.capacity());
          for (int i = 0; i < count; i++) {
            if (source.isNull(i)) {
              continue;
            }
            int start = offsets.getInt((long) i * Integer.BYTES);
            int end = offsets.getInt((long) (i + 1) * Integer.BYTES);
            uuidBytes(data, start, end, fixed, (long) i * 16);
          }
          fixed.writerIndex((long) count * 16);
          return List.of(validity, fixed);
        }
      case FLOAT32_TO_FLOAT16:
        {
          ArrowBuf values = buffers.get(1);
          ArrowBuf half = track(made, allocator.buffer((long) count * Short.BYTES));
          for (int i = 0; i < count; i++) {
            float value = source.isNull(i) ? 0f : values.getFloat((long) i * Float.BYTES);
            half.setShort((long) i * Short.BYTES, Float16.toFloat16(value));
          }
          half.writerIndex((long) count * Short.BYTES);
          return List.of(validity, half);
        }
      case FLOAT16_TO_FLOAT32:
        {
          ArrowBuf values = buffers.get(1);
          ArrowBuf single = track(made, allocator.buffer((long) count * Float.BYTES));
          for (int i = 0; i < count; i++) {
            float value =
                source.isNull(i) ? 0f : Float16.toFloat(values.getShort((long) i * Short.BYTES));
            single.setFloat((long) i * Float.BYTES, value);
          }
          single.writerIndex((long) count * Float.BYTES);
          return List.of(validity, single);
        }
      case DIVIDE_64_TO_32:
        {
          long divisor =
              divisor(((ArrowType.Time) from).getUnit(), ((ArrowType.Time) to).getUnit());
          ArrowBuf values = buffers.get(1);
          ArrowBuf narrow = track(made, allocator.buffer((long) count * Integer.BYTES));
          for (int i = 0; i < count; i++) {
            long value = source.isNull(i) ? 0 : values.getLong((long) i * Long.BYTES) / divisor;
            narrow.setInt((long) i * Integer.BYTES, (int) value);
          }
          narrow.writerIndex((long) count * Integer.BYTES);
          return List.of(validity, narrow);
        }
      case DIVIDE_64_TO_64:
        {
          long divisor =
              divisor(((ArrowType.Timestamp) from).getUnit(), ((ArrowType.Timestamp) to).getUnit());
          ArrowBuf values = buffers.get(1);
          ArrowBuf scaled = track(made, allocator.buffer((long) count * Long.BYTES));
          for (int i = 0; i < count; i++) {
            long value = source.isNull(i) ? 0 : values.getLong((long) i * Long.BYTES);
            // floorDiv: the values were whole source units, so this is exact; floor keeps
            // pre-1970 values right if they ever are not.
            scaled.setLong((long) i * Long.BYTES, Math.floorDiv(value, divisor));
          }
          scaled.writerIndex((long) count * Long.BYTES);
          return List.of(validity, scaled);
        }
      default:
        throw new AssertionError(kind);
    }
  }

  private static ArrowBuf track(List<ArrowBuf> made, ArrowBuf buffer) {
    made.add(buffer);
    return buffer;
  }
}
