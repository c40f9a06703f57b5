package dev.quiver.server.table;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeMilliVector;
import org.apache.arrow.vector.TimeNanoVector;
import org.apache.arrow.vector.TimeSecVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.complex.impl.UnionLargeListWriter;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.complex.impl.UnionMapWriter;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A batch with a column of every type Quiver stores, with a null in each column (row 2) and extreme
 * values where a type has them.
 */
public final class AllTypes {
  public static final int ROWS = 5;
  private static final int NULL_ROW = 2;

  private AllTypes() {}

  public static Field field(String name, ArrowType type, Field... children) {
    return new Field(name, FieldType.nullable(type), List.of(children));
  }

  public static Schema schema() {
    List<Field> fields = new ArrayList<>();
    fields.add(new Field("id", FieldType.notNullable(new ArrowType.Int(64, true)), null));
    fields.add(field("i8", new ArrowType.Int(8, true)));
    fields.add(field("i16", new ArrowType.Int(16, true)));
    fields.add(field("i32", new ArrowType.Int(32, true)));
    fields.add(field("i64", new ArrowType.Int(64, true)));
    fields.add(field("u8", new ArrowType.Int(8, false)));
    fields.add(field("u16", new ArrowType.Int(16, false)));
    fields.add(field("u32", new ArrowType.Int(32, false)));
    fields.add(field("u64", new ArrowType.Int(64, false)));
    fields.add(field("f16", new ArrowType.FloatingPoint(FloatingPointPrecision.HALF)));
    fields.add(field("f32", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)));
    fields.add(field("f64", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)));
    fields.add(field("b", ArrowType.Bool.INSTANCE));
    fields.add(field("s", ArrowType.Utf8.INSTANCE));
    fields.add(field("ls", ArrowType.LargeUtf8.INSTANCE));
    fields.add(field("bin", ArrowType.Binary.INSTANCE));
    fields.add(field("lbin", ArrowType.LargeBinary.INSTANCE));
    fields.add(field("fbin", new ArrowType.FixedSizeBinary(4)));
    fields.add(field("d", new ArrowType.Date(DateUnit.DAY)));
    fields.add(field("t32s", new ArrowType.Time(TimeUnit.SECOND, 32)));
    fields.add(field("t32ms", new ArrowType.Time(TimeUnit.MILLISECOND, 32)));
    fields.add(field("t64us", new ArrowType.Time(TimeUnit.MICROSECOND, 64)));
    fields.add(field("t64ns", new ArrowType.Time(TimeUnit.NANOSECOND, 64)));
    for (TimeUnit unit : TimeUnit.values()) {
      String suffix = new String[] {"s", "ms", "us", "ns"}[unit.ordinal()];
      fields.add(field("ts_" + suffix, new ArrowType.Timestamp(unit, null)));
      fields.add(field("tstz_" + suffix, new ArrowType.Timestamp(unit, "Europe/Paris")));
    }
    fields.add(field("dec", new ArrowType.Decimal(18, 2, 128)));
    fields.add(field("dec38", new ArrowType.Decimal(38, 10, 128)));
    fields.add(field("l", ArrowType.List.INSTANCE, field("item", new ArrowType.Int(32, true))));
    fields.add(
        field("ll", ArrowType.LargeList.INSTANCE, field("item", ArrowType.LargeUtf8.INSTANCE)));
    fields.add(
        field(
            "st",
            ArrowType.Struct.INSTANCE,
            field("x", new ArrowType.Int(32, true)),
            field("y", ArrowType.LargeUtf8.INSTANCE),
            field("z", new ArrowType.Timestamp(TimeUnit.MILLISECOND, "UTC"))));
    fields.add(
        new Field(
            "m",
            FieldType.nullable(new ArrowType.Map(false)),
            List.of(
                new Field(
                    "entries",
                    FieldType.notNullable(ArrowType.Struct.INSTANCE),
                    List.of(
                        new Field("key", FieldType.notNullable(ArrowType.Utf8.INSTANCE), null),
                        field("value", new ArrowType.Int(64, true)))))));
    return new Schema(fields);
  }

  /** A new root of {@link #schema()} with {@link #ROWS} rows; the caller closes it. */
  public static VectorSchemaRoot batch(BufferAllocator allocator) {
    VectorSchemaRoot root = VectorSchemaRoot.create(schema(), allocator);
    root.allocateNew();
    for (int row = 0; row < ROWS; row++) {
      boolean isNull = row == NULL_ROW;
      for (FieldVector vector : root.getFieldVectors()) {
        String name = vector.getName();
        if (name.equals("id")) {
          ((BigIntVector) vector).setSafe(row, row);
        } else if (isNull) {
          if (!(vector instanceof ListVector
              || vector instanceof LargeListVector
              || vector instanceof StructVector)) {
            vector.setNull(row);
          }
        } else {
          setValue(vector, row);
        }
      }
    }
    fillNested(root);
    root.setRowCount(ROWS);
    return root;
  }

  private static final long[] LONGS = {Long.MIN_VALUE, -1, 0, 42, Long.MAX_VALUE};
  // Whole seconds before and after 1970 and one far in the future.
  private static final long[] SECONDS = {
    -86_400L * 365 * 50, -1, 0, 1_700_000_000L, 253_402_300_799L
  };

  private static void setValue(FieldVector vector, int row) {
    long v = LONGS[row];
    String name = vector.getName();
    if (vector instanceof TinyIntVector) {
      ((TinyIntVector) vector)
          .setSafe(row, (byte) (row == 0 ? Byte.MIN_VALUE : row == 4 ? Byte.MAX_VALUE : row));
    } else if (vector instanceof SmallIntVector) {
      ((SmallIntVector) vector)
          .setSafe(row, (short) (row == 0 ? Short.MIN_VALUE : row == 4 ? Short.MAX_VALUE : row));
    } else if (vector instanceof IntVector) {
      ((IntVector) vector)
          .setSafe(row, row == 0 ? Integer.MIN_VALUE : row == 4 ? Integer.MAX_VALUE : row);
    } else if (vector instanceof BigIntVector) {
      ((BigIntVector) vector).setSafe(row, v);
    } else if (vector instanceof UInt1Vector) {
      ((UInt1Vector) vector).setSafe(row, row == 4 ? (byte) 0xff : (byte) row);
    } else if (vector instanceof UInt2Vector) {
      ((UInt2Vector) vector).setSafe(row, row == 4 ? (char) 0xffff : (char) row);
    } else if (vector instanceof UInt4Vector) {
      ((UInt4Vector) vector).setSafe(row, row == 4 ? -1 : row);
    } else if (vector instanceof UInt8Vector) {
      ((UInt8Vector) vector).setSafe(row, row == 4 ? -1L : row == 3 ? Long.MIN_VALUE : row);
    } else if (vector instanceof Float2Vector) {
      ((Float2Vector) vector)
          .setSafeWithPossibleTruncate(
              row, new float[] {-1.5f, 65504f, 0, 0.099975586f, Float.POSITIVE_INFINITY}[row]);
    } else if (vector instanceof Float4Vector) {
      ((Float4Vector) vector)
          .setSafe(row, new float[] {-1.5f, Float.MAX_VALUE, 0, Float.NaN, Float.MIN_VALUE}[row]);
    } else if (vector instanceof Float8Vector) {
      ((Float8Vector) vector)
          .setSafe(
              row, new double[] {-1.5, Double.MAX_VALUE, 0, -0.0, Double.NEGATIVE_INFINITY}[row]);
    } else if (vector instanceof BitVector) {
      ((BitVector) vector).setSafe(row, row % 2);
    } else if (vector instanceof VarCharVector) {
      ((VarCharVector) vector).setSafe(row, ("s" + row + " é ✓").getBytes(UTF_8));
    } else if (vector instanceof LargeVarCharVector) {
      ((LargeVarCharVector) vector).setSafe(row, ("large " + "x".repeat(row * 7)).getBytes(UTF_8));
    } else if (vector instanceof VarBinaryVector) {
      ((VarBinaryVector) vector).setSafe(row, new byte[] {(byte) row, 0, (byte) 0xff});
    } else if (vector instanceof LargeVarBinaryVector) {
      ((LargeVarBinaryVector) vector).setSafe(row, new byte[row]);
    } else if (vector instanceof FixedSizeBinaryVector) {
      ((FixedSizeBinaryVector) vector).setSafe(row, new byte[] {1, (byte) row, 0, (byte) 0x80});
    } else if (vector instanceof DateDayVector) {
      ((DateDayVector) vector).setSafe(row, (int) (SECONDS[row] / 86_400));
    } else if (vector instanceof TimeSecVector) {
      ((TimeSecVector) vector).setSafe(row, row * 3_600 + 59);
    } else if (vector instanceof TimeMilliVector) {
      ((TimeMilliVector) vector).setSafe(row, row * 3_600_000 + 999);
    } else if (vector instanceof TimeMicroVector) {
      ((TimeMicroVector) vector).setSafe(row, row * 3_600_000_000L + 999_999);
    } else if (vector instanceof TimeNanoVector) {
      ((TimeNanoVector) vector).setSafe(row, row * 3_600_000_000_000L + 999_999_999);
    } else if (vector instanceof DecimalVector) {
      int scale = ((DecimalVector) vector).getScale();
      BigDecimal value =
          new BigDecimal(row == 4 ? "-9999999999999999.99" : row * 1000 + ".25").setScale(scale);
      if (name.equals("dec38") && row == 4) {
        value = new BigDecimal("9999999999999999999999999999.9999999999");
      }
      ((DecimalVector) vector).setSafe(row, value);
    } else if (name.startsWith("ts")) {
      TimeUnit unit = ((ArrowType.Timestamp) vector.getField().getType()).getUnit();
      long value = SECONDS[row];
      switch (unit) {
        case MILLISECOND:
          value = value * 1_000 + 123;
          break;
        case MICROSECOND:
          value = value * 1_000_000 + 123_456;
          break;
        case NANOSECOND:
          // Nanoseconds cover only 1677..2262.
          value = (row == 4 ? 4_000_000_000L : value) * 1_000_000_000 + 123_456_789;
          break;
        default:
          break;
      }
      ((BaseFixedWidthVector) vector).getDataBuffer().setLong((long) row * 8, value);
      ((BaseFixedWidthVector) vector).setIndexDefined(row);
    }
  }

  private static void fillNested(VectorSchemaRoot root) {
    UnionListWriter list = ((ListVector) root.getVector("l")).getWriter();
    UnionLargeListWriter largeList = ((LargeListVector) root.getVector("ll")).getWriter();
    StructVector struct = (StructVector) root.getVector("st");
    UnionMapWriter map = ((MapVector) root.getVector("m")).getWriter();
    for (int row = 0; row < ROWS; row++) {
      if (row == NULL_ROW) {
        continue;
      }
      list.setPosition(row);
      list.startList();
      for (int i = 0; i < row; i++) {
        if (i == 1) {
          list.integer().writeNull();
        } else {
          list.integer().writeInt(i * 10);
        }
      }
      list.endList();

      largeList.setPosition(row);
      largeList.startList();
      for (int i = 0; i < row; i++) {
        byte[] bytes = ("v" + i).getBytes(UTF_8);
        try (org.apache.arrow.memory.ArrowBuf buf =
            root.getVector("ll").getAllocator().buffer(bytes.length)) {
          buf.setBytes(0, bytes);
          largeList.largeVarChar().writeLargeVarChar(0, bytes.length, buf);
        }
      }
      largeList.endList();

      if (row != 1) {
        ((IntVector) struct.getChild("x")).setSafe(row, row);
      }
      ((LargeVarCharVector) struct.getChild("y")).setSafe(row, ("y" + row).getBytes(UTF_8));
      ((org.apache.arrow.vector.TimeStampMilliTZVector) struct.getChild("z"))
          .setSafe(row, SECONDS[row] * 1000 + 7);
      struct.setIndexDefined(row);

      map.setPosition(row);
      map.startMap();
      for (int i = 0; i < row; i++) {
        map.startEntry();
        byte[] key = ("k" + i).getBytes(UTF_8);
        try (org.apache.arrow.memory.ArrowBuf buf = struct.getAllocator().buffer(key.length)) {
          buf.setBytes(0, key);
          map.key().varChar().writeVarChar(0, key.length, buf);
        }
        if (i == 0) {
          map.value().bigInt().writeNull();
        } else {
          map.value().bigInt().writeBigInt(i * 100L);
        }
        map.endEntry();
      }
      map.endMap();
    }
    list.setValueCount(ROWS);
    largeList.setValueCount(ROWS);
    map.setValueCount(ROWS);
    for (FieldVector child : struct.getChildrenFromFields()) {
      child.setValueCount(ROWS);
    }
    struct.setValueCount(ROWS);
  }
}
