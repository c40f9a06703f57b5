package dev.quiver.server.table.filter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.dataset.file.DatasetFileWriter;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.TimeStampMilliVector;
import org.apache.arrow.vector.TimeStampNanoVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A six-row table of every column type filters compare, plus columns they can only null-check
 * (uint64, large_string, large_binary, a list, a struct), written to Parquet by arrow-dataset and
 * scanned back with a {@link ScanFilter}.
 *
 * <p>Row {@code id} {@code i} holds: small = SMALL[i], num = 10 * (i + 1), ratio = RATIO[i], name =
 * NAME[i], pair = {i, 9}, day = 2024-01-01 + i days, every timestamp = 2024-01-01T00:00 + i hours,
 * amount = AMOUNT[i]. Row 4 is null in every nullable column.
 */
final class FilterTestTable {
  static final int ROWS = 6;
  static final int NULL_ROW = 4;
  static final byte[] SMALL = {-100, -1, 0, 1, 0, 100};
  static final float[] RATIO = {0.5f, 1.5f, 2.5f, -1f, 0f, 3.25f};
  static final double[] SCORE = {0.1, 0.2, 0.3, 1e10, 0, -2.5};
  static final String[] NAME = {"alice", "bob", "carol", "dave", "", "eve"};
  static final byte[][] PAYLOAD = {{1}, {2}, {1, 2}, {}, {}, {3}};
  static final String[] AMOUNT = {"1.00", "2.50", "3.75", "-4.00", "0", "100.01"};
  static final int[] UNSIGNED = {0, 1, 200, 255, 0, 7};
  static final LocalDate FIRST_DAY = LocalDate.of(2024, 1, 1);
  static final LocalDateTime FIRST_TIME = LocalDateTime.of(2024, 1, 1, 0, 0);

  static final Schema SCHEMA =
      new Schema(
          List.of(
              field("id", new ArrowType.Int(64, true), false),
              field("small", new ArrowType.Int(8, true), true),
              field("short", new ArrowType.Int(16, true), true),
              field("num", new ArrowType.Int(32, true), true),
              field("big", new ArrowType.Int(64, true), true),
              field("ratio", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE), true),
              field("score", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE), true),
              field("active", ArrowType.Bool.INSTANCE, true),
              field("name", ArrowType.Utf8.INSTANCE, true),
              field("payload", ArrowType.Binary.INSTANCE, true),
              field("pair", new ArrowType.FixedSizeBinary(2), true),
              field("day", new ArrowType.Date(DateUnit.DAY), true),
              field("ts", new ArrowType.Timestamp(TimeUnit.MICROSECOND, null), true),
              field("tstz", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"), true),
              field("ts_ms", new ArrowType.Timestamp(TimeUnit.MILLISECOND, null), true),
              field("ts_ns", new ArrowType.Timestamp(TimeUnit.NANOSECOND, null), true),
              field("amount", new ArrowType.Decimal(18, 2, 128), true),
              field("unsigned", new ArrowType.Int(8, false), true),
              field("huge", new ArrowType.Int(64, false), true),
              field(
                  "tsny", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "America/New_York"), true),
              new Field(
                  "point",
                  FieldType.nullable(ArrowType.Struct.INSTANCE),
                  List.of(
                      field("x", new ArrowType.Int(32, true), true),
                      field("y", ArrowType.Utf8.INSTANCE, true))),
              field("label", ArrowType.LargeUtf8.INSTANCE, true),
              field("code", ArrowType.LargeBinary.INSTANCE, false),
              new Field(
                  "tags",
                  FieldType.nullable(ArrowType.List.INSTANCE),
                  List.of(field("item", new ArrowType.Int(32, true), true)))));

  private FilterTestTable() {}

  private static Field field(String name, ArrowType type, boolean nullable) {
    return new Field(name, new FieldType(nullable, type, null), null);
  }

  /** Writes the table as Parquet into the empty or absent folder {@code dir}. */
  static void write(BufferAllocator allocator, Path dir) throws IOException {
    byte[] stream;
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
      fill(root);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, out)) {
        writer.start();
        writer.writeBatch();
        writer.end();
      }
      stream = out.toByteArray();
    }
    try (ArrowReader reader = new ArrowStreamReader(new ByteArrayInputStream(stream), allocator)) {
      DatasetFileWriter.write(
          allocator,
          reader,
          FileFormat.PARQUET,
          dir.toUri().toString(),
          new String[0],
          1024,
          "part-{i}.parquet");
    }
  }

  /** The ids of the rows of the Parquet files under {@code dir} that {@code filter} keeps. */
  static List<Long> scanIds(BufferAllocator allocator, Path dir, ScanFilter filter)
      throws Exception {
    return scanIds(allocator, dir, filter, Optional.empty());
  }

  /** As {@link #scanIds(BufferAllocator, Path, ScanFilter)}, reading only {@code columns}. */
  // Dataset and Scanner declare close() throws Exception, which -Xlint:try reports.
  @SuppressWarnings("try")
  static List<Long> scanIds(
      BufferAllocator allocator, Path dir, ScanFilter filter, Optional<String[]> columns)
      throws Exception {
    List<Long> ids = new ArrayList<>();
    ScanOptions options =
        new ScanOptions.Builder(1024).columns(columns).substraitFilter(filter.substrait()).build();
    try (FileSystemDatasetFactory factory =
            new FileSystemDatasetFactory(
                allocator,
                NativeMemoryPool.getDefault(),
                FileFormat.PARQUET,
                dir.toUri().toString());
        Dataset dataset = factory.finish();
        Scanner scanner = dataset.newScan(options);
        ArrowReader reader = scanner.scanBatches()) {
      while (reader.loadNextBatch()) {
        BigIntVector id = (BigIntVector) reader.getVectorSchemaRoot().getVector("id");
        for (int i = 0; i < id.getValueCount(); i++) {
          ids.add(id.get(i));
        }
      }
    }
    ids.sort(null);
    return ids;
  }

  private static void fill(VectorSchemaRoot root) {
    // Lists first: the writer needs every row in order; row 4 becomes null below.
    UnionListWriter tags = ((ListVector) root.getVector("tags")).getWriter();
    for (int row = 0; row < ROWS; row++) {
      tags.setPosition(row);
      tags.startList();
      for (int i = 0; i < row && row != NULL_ROW; i++) {
        tags.integer().writeInt(i);
      }
      tags.endList();
    }
    tags.setValueCount(ROWS);
    for (int row = 0; row < ROWS; row++) {
      LocalDateTime time = FIRST_TIME.plusHours(row);
      long micros = time.toEpochSecond(ZoneOffset.UTC) * 1_000_000L;
      ((BigIntVector) root.getVector("id")).setSafe(row, row);
      ((LargeVarBinaryVector) root.getVector("code")).setSafe(row, new byte[] {(byte) row});
      if (row == NULL_ROW) {
        for (FieldVector vector : root.getFieldVectors()) {
          if (vector.getField().isNullable()) {
            vector.setNull(row);
          }
        }
        continue;
      }
      ((TinyIntVector) root.getVector("small")).setSafe(row, SMALL[row]);
      ((SmallIntVector) root.getVector("short")).setSafe(row, SMALL[row] * 100);
      ((IntVector) root.getVector("num")).setSafe(row, 10 * (row + 1));
      ((BigIntVector) root.getVector("big")).setSafe(row, (row - 2) * 5_000_000_000L);
      ((Float4Vector) root.getVector("ratio")).setSafe(row, RATIO[row]);
      ((Float8Vector) root.getVector("score")).setSafe(row, SCORE[row]);
      ((BitVector) root.getVector("active")).setSafe(row, row % 2 == 0 ? 1 : 0);
      ((VarCharVector) root.getVector("name"))
          .setSafe(row, NAME[row].getBytes(StandardCharsets.UTF_8));
      ((VarBinaryVector) root.getVector("payload")).setSafe(row, PAYLOAD[row]);
      ((FixedSizeBinaryVector) root.getVector("pair")).setSafe(row, new byte[] {(byte) row, 9});
      ((DateDayVector) root.getVector("day"))
          .setSafe(row, (int) FIRST_DAY.plusDays(row).toEpochDay());
      ((TimeStampMicroVector) root.getVector("ts")).setSafe(row, micros);
      ((TimeStampMicroTZVector) root.getVector("tstz")).setSafe(row, micros);
      ((TimeStampMilliVector) root.getVector("ts_ms")).setSafe(row, micros / 1_000L);
      ((TimeStampNanoVector) root.getVector("ts_ns")).setSafe(row, micros * 1_000L);
      ((DecimalVector) root.getVector("amount"))
          .setSafe(row, new BigDecimal(AMOUNT[row]).setScale(2));
      ((UInt1Vector) root.getVector("unsigned")).setSafe(row, UNSIGNED[row]);
      // 2^63 on the last row: above every int64
      ((UInt8Vector) root.getVector("huge")).setSafe(row, row == ROWS - 1 ? Long.MIN_VALUE : row);
      ((TimeStampMicroTZVector) root.getVector("tsny")).setSafe(row, micros);
      StructVector point = (StructVector) root.getVector("point");
      point.setIndexDefined(row);
      ((IntVector) point.getChild("x")).setSafe(row, row);
      ((VarCharVector) point.getChild("y"))
          .setSafe(row, NAME[row].getBytes(StandardCharsets.UTF_8));
      ((LargeVarCharVector) root.getVector("label"))
          .setSafe(row, ("label" + row).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(ROWS);
  }
}
