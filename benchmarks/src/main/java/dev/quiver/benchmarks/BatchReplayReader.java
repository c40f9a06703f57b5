package dev.quiver.benchmarks;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * An {@link ArrowReader} over pre-built batches: each load points the reader's root at the next
 * batch's buffers (no copy). The batches stay owned by the caller; closing the reader closes only
 * its root. Not thread-safe.
 */
public final class BatchReplayReader extends ArrowReader {
  private final Schema schema;
  private final List<ArrowRecordBatch> batches;
  private int next;
  private long bytesRead;

  public BatchReplayReader(
      BufferAllocator allocator, Schema schema, List<ArrowRecordBatch> batches) {
    super(allocator);
    this.schema = requireNonNull(schema, "schema is null");
    this.batches = List.copyOf(batches);
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    if (next == batches.size()) {
      return false;
    }
    prepareLoadNextBatch();
    ArrowRecordBatch batch = batches.get(next++);
    // ArrowReader.loadRecordBatch would close the batch, which other readers share.
    new VectorLoader(getVectorSchemaRoot()).load(batch);
    bytesRead += batch.computeBodyLength();
    return true;
  }

  @Override
  public long bytesRead() {
    return bytesRead;
  }

  @Override
  protected void closeReadSource() {}

  @Override
  protected Schema readSchema() {
    return schema;
  }
}
