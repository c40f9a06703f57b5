package dev.quiver.server.table;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/** Hand-written ArrowReaders for tests. */
public final class TestReaders {
  private TestReaders() {}

  /** A reader that serves {@code batches} copies of {@code batch}'s contents. */
  public static ArrowReader repeating(
      BufferAllocator allocator, VectorSchemaRoot batch, int batches) {
    return new Repeating(allocator, batch, batches, -1, null);
  }

  /**
   * A reader that serves copies of {@code batch} and throws the supplied error before batch {@code
   * failAt}.
   */
  public static ArrowReader failing(
      BufferAllocator allocator,
      VectorSchemaRoot batch,
      int failAt,
      Supplier<? extends RuntimeException> error) {
    return new Repeating(allocator, batch, Integer.MAX_VALUE, failAt, error);
  }

  /**
   * A reader that serves {@code batches} copies of {@code batch}, waiting (30 s at most) for {@code
   * gate} before batch {@code waitAt}: an upload that stays open until the test lets it finish.
   */
  public static ArrowReader gated(
      BufferAllocator allocator,
      VectorSchemaRoot batch,
      int batches,
      int waitAt,
      CountDownLatch gate) {
    return new Repeating(
        allocator,
        batch,
        batches,
        waitAt,
        () -> {
          try {
            if (!gate.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("The gate stayed closed for 30 s");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
          return null;
        });
  }

  /**
   * The schema of {@link #sequence}: id int64 not null, name utf8, amount decimal(18,2), day
   * date32, flag bool.
   */
  public static Schema sequenceSchema() {
    return new Schema(
        List.of(
            new Field("id", FieldType.notNullable(new ArrowType.Int(64, true)), null),
            Field.nullable("name", ArrowType.Utf8.INSTANCE),
            Field.nullable("amount", new ArrowType.Decimal(18, 2, 128)),
            Field.nullable("day", new ArrowType.Date(DateUnit.DAY)),
            Field.nullable("flag", ArrowType.Bool.INSTANCE)));
  }

  /**
   * A reader of {@code batches} batches of {@code rows} rows: id counts up from 0, name is
   * "name-&lt;id&gt;" (null when id % 7 == 3), amount is id / 100, day is id % 20000, flag id % 2.
   */
  public static ArrowReader sequence(BufferAllocator allocator, int batches, int rows) {
    return new ArrowReader(allocator) {
      private long next;
      private int served;

      @Override
      public boolean loadNextBatch() throws IOException {
        if (served == batches) {
          return false;
        }
        served++;
        VectorSchemaRoot root = getVectorSchemaRoot();
        root.allocateNew();
        BigIntVector id = (BigIntVector) root.getVector("id");
        VarCharVector name = (VarCharVector) root.getVector("name");
        DecimalVector amount = (DecimalVector) root.getVector("amount");
        DateDayVector day = (DateDayVector) root.getVector("day");
        BitVector flag = (BitVector) root.getVector("flag");
        for (int i = 0; i < rows; i++, next++) {
          id.setSafe(i, next);
          if (next % 7 == 3) {
            name.setNull(i);
          } else {
            name.setSafe(i, ("name-" + next).getBytes(StandardCharsets.UTF_8));
          }
          amount.setSafe(i, BigDecimal.valueOf(next, 2));
          day.setSafe(i, (int) (next % 20_000));
          flag.setSafe(i, (int) (next % 2));
        }
        root.setRowCount(rows);
        return true;
      }

      @Override
      public long bytesRead() {
        return 0;
      }

      @Override
      protected void closeReadSource() {}

      @Override
      protected Schema readSchema() {
        return sequenceSchema();
      }
    };
  }

  private static final class Repeating extends ArrowReader {
    private final VectorSchemaRoot batch;
    private final int batches;
    private final int failAt;
    private final Supplier<? extends RuntimeException> error;
    private int served;

    Repeating(
        BufferAllocator allocator,
        VectorSchemaRoot batch,
        int batches,
        int failAt,
        Supplier<? extends RuntimeException> error) {
      super(allocator);
      this.batch = batch;
      this.batches = batches;
      this.failAt = failAt;
      this.error = error;
    }

    @Override
    public boolean loadNextBatch() throws IOException {
      if (served == failAt) {
        RuntimeException failure = error.get();
        if (failure != null) {
          throw failure;
        }
      }
      if (served == batches) {
        return false;
      }
      served++;
      getVectorSchemaRoot(); // initialises the reader's root and loader
      try (ArrowRecordBatch recordBatch = new VectorUnloader(batch).getRecordBatch()) {
        loadRecordBatch(recordBatch);
      }
      return true;
    }

    @Override
    public long bytesRead() {
      return 0;
    }

    @Override
    protected void closeReadSource() {}

    @Override
    protected Schema readSchema() {
      return batch.getSchema();
    }
  }
}
