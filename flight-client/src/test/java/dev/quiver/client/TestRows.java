package dev.quiver.client;

import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Test rows {@code (id int64, name utf8)} with {@code name = "row-" + id}, and ways to read them.
 */
final class TestRows {
  static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.notNullable("id", new ArrowType.Int(64, true)),
              Field.nullable("name", ArrowType.Utf8.INSTANCE)));

  private TestRows() {}

  /** The rows {@code [from, to)} as the strings {@link #read} returns. */
  static List<String> expected(long from, long to) {
    List<String> rows = new ArrayList<>();
    for (long id = from; id < to; id++) {
      rows.add(id + ":row-" + id);
    }
    return rows;
  }

  /** One root holding rows {@code [from, to)}; the caller closes it. */
  static VectorSchemaRoot root(BufferAllocator allocator, long from, long to) {
    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
    fill(root, from, to);
    return root;
  }

  private static void fill(VectorSchemaRoot root, long from, long to) {
    int rows = Math.toIntExact(to - from);
    BigIntVector id = (BigIntVector) root.getVector("id");
    VarCharVector name = (VarCharVector) root.getVector("name");
    root.allocateNew();
    for (int i = 0; i < rows; i++) {
      id.setSafe(i, from + i);
      name.setSafe(i, ("row-" + (from + i)).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(rows);
  }

  /** A reader of {@code batches} batches of {@code rowsPerBatch} rows, ids counting from 0. */
  static ArrowReader reader(BufferAllocator allocator, int batches, int rowsPerBatch) {
    return new ArrowReader(allocator) {
      private int sent;

      @Override
      public boolean loadNextBatch() throws java.io.IOException {
        if (sent == batches) {
          return false;
        }
        long from = (long) sent++ * rowsPerBatch;
        fill(getVectorSchemaRoot(), from, from + rowsPerBatch);
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
        return SCHEMA;
      }
    };
  }

  /**
   * Every row of {@code reader} as {@code "id:name"} (or the first column alone), in order read.
   */
  static List<String> read(ArrowReader reader) throws Exception {
    List<String> rows = new ArrayList<>();
    VectorSchemaRoot root = reader.getVectorSchemaRoot();
    while (reader.loadNextBatch()) {
      for (int i = 0; i < root.getRowCount(); i++) {
        List<String> values = new ArrayList<>();
        for (FieldVector vector : root.getFieldVectors()) {
          values.add(String.valueOf(vector.getObject(i)));
        }
        rows.add(String.join(":", values));
      }
    }
    return rows;
  }

  /** Waits until {@code condition} holds, failing after {@code timeout}. */
  static void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("Timed out after %s waiting for %s", timeout, what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }
}
