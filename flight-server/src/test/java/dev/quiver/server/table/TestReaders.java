package dev.quiver.server.table;

import java.io.IOException;
import java.util.function.Supplier;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/** Hand-written ArrowReaders for tests. */
final class TestReaders {
  private TestReaders() {}

  /** A reader that serves {@code batches} copies of {@code batch}'s contents. */
  static ArrowReader repeating(BufferAllocator allocator, VectorSchemaRoot batch, int batches) {
    return new Repeating(allocator, batch, batches, -1, null);
  }

  /**
   * A reader that serves copies of {@code batch} and throws the supplied error before batch {@code
   * failAt}.
   */
  static ArrowReader failing(
      BufferAllocator allocator,
      VectorSchemaRoot batch,
      int failAt,
      Supplier<? extends RuntimeException> error) {
    return new Repeating(allocator, batch, Integer.MAX_VALUE, failAt, error);
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
        throw error.get();
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
