package dev.quiver.benchmarks;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Pre-built record batches that benchmarks replay, so that an operation measures the transport or
 * the server and not the making of rows.
 *
 * <p>The batches are immutable once built and may be loaded into any number of roots at once
 * (loading retains their buffers). Whoever builds the data closes it, after every root that loaded
 * a batch is closed.
 */
public final class BenchmarkData implements AutoCloseable {
  /** The columns of a benchmark table. */
  public enum Shape {
    /** Four int64 columns: the schema of Arrow's own Flight benchmark. */
    INT64X4,
    /**
     * An int64, a short string, a microsecond UTC timestamp and a decimal(18,2); about 2% of the
     * last three are null.
     */
    MIXED;

    /** The shape a JMH parameter names, case-insensitively. */
    public static Shape fromName(String name) {
      return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
  }

  private static final long SEED = 0x5eed_0f_da7aL;
  private static final int NULL_EVERY = 50;
  private static final long EPOCH_2026_MICROS = 1_767_225_600_000_000L;

  private final Schema schema;
  private final List<ArrowRecordBatch> batches;
  private final long rows;
  private final long bytes;

  private BenchmarkData(Schema schema, List<ArrowRecordBatch> batches) {
    this.schema = schema;
    this.batches = List.copyOf(batches);
    this.rows = batches.stream().mapToLong(ArrowRecordBatch::getLength).sum();
    this.bytes = batches.stream().mapToLong(ArrowRecordBatch::computeBodyLength).sum();
  }

  /**
   * Builds {@code batchCount} batches of {@code rowsPerBatch} rows of {@code shape} in {@code
   * allocator}, with pseudo-random values from a fixed seed (the same data every run).
   */
  public static BenchmarkData build(
      BufferAllocator allocator, Shape shape, int batchCount, int rowsPerBatch) {
    requireNonNull(allocator, "allocator is null");
    requireNonNull(shape, "shape is null");
    if (batchCount < 1 || rowsPerBatch < 1) {
      throw new IllegalArgumentException(
          "Need at least one batch of one row, not " + batchCount + " x " + rowsPerBatch);
    }
    Schema schema = schema(shape);
    SplittableRandom random = new SplittableRandom(SEED);
    List<ArrowRecordBatch> batches = new ArrayList<>(batchCount);
    try {
      for (int b = 0; b < batchCount; b++) {
        try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
          root.allocateNew();
          fill(shape, root, rowsPerBatch, (long) b * rowsPerBatch, random);
          root.setRowCount(rowsPerBatch);
          batches.add(new VectorUnloader(root).getRecordBatch());
        }
      }
    } catch (RuntimeException e) {
      batches.forEach(ArrowRecordBatch::close);
      throw e;
    }
    return new BenchmarkData(schema, batches);
  }

  /** The schema of a table of {@code shape}. */
  public static Schema schema(Shape shape) {
    return switch (shape) {
      case INT64X4 ->
          new Schema(
              List.of(
                  Field.notNullable("a", new ArrowType.Int(64, true)),
                  Field.notNullable("b", new ArrowType.Int(64, true)),
                  Field.notNullable("c", new ArrowType.Int(64, true)),
                  Field.notNullable("d", new ArrowType.Int(64, true))));
      case MIXED ->
          new Schema(
              List.of(
                  Field.notNullable("id", new ArrowType.Int(64, true)),
                  Field.nullable("name", ArrowType.Utf8.INSTANCE),
                  Field.nullable("at", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC")),
                  Field.nullable("amount", new ArrowType.Decimal(18, 2, 128))));
    };
  }

  private static void fill(
      Shape shape, VectorSchemaRoot root, int rows, long firstRow, SplittableRandom random) {
    switch (shape) {
      case INT64X4 -> {
        BigIntVector a = (BigIntVector) root.getVector(0);
        BigIntVector b = (BigIntVector) root.getVector(1);
        BigIntVector c = (BigIntVector) root.getVector(2);
        BigIntVector d = (BigIntVector) root.getVector(3);
        for (int i = 0; i < rows; i++) {
          a.setSafe(i, firstRow + i);
          b.setSafe(i, random.nextLong(1_000_000));
          c.setSafe(i, random.nextLong());
          d.setSafe(i, random.nextLong(100));
        }
      }
      case MIXED -> {
        BigIntVector id = (BigIntVector) root.getVector(0);
        VarCharVector name = (VarCharVector) root.getVector(1);
        TimeStampMicroTZVector at = (TimeStampMicroTZVector) root.getVector(2);
        DecimalVector amount = (DecimalVector) root.getVector(3);
        for (int i = 0; i < rows; i++) {
          id.setSafe(i, firstRow + i);
          // About one value in NULL_EVERY of each nullable column is null.
          if (random.nextInt(NULL_EVERY) == 0) {
            name.setNull(i);
          } else {
            name.setSafe(
                i, ("customer-" + random.nextInt(100_000)).getBytes(StandardCharsets.UTF_8));
          }
          if (random.nextInt(NULL_EVERY) == 0) {
            at.setNull(i);
          } else {
            at.setSafe(i, EPOCH_2026_MICROS + random.nextLong(86_400_000_000L * 365));
          }
          if (random.nextInt(NULL_EVERY) == 0) {
            amount.setNull(i);
          } else {
            amount.setSafe(i, random.nextLong(10_000_000));
          }
        }
      }
    }
  }

  public Schema schema() {
    return schema;
  }

  /** The batches, in order; callers load them and must not close them. */
  public List<ArrowRecordBatch> batches() {
    return batches;
  }

  /** Rows in all batches. */
  public long rows() {
    return rows;
  }

  /** Bytes of Arrow buffers in all batches (the IPC body length, without metadata). */
  public long bytes() {
    return bytes;
  }

  @Override
  public void close() {
    batches.forEach(ArrowRecordBatch::close);
  }
}
