package dev.quiver.server.sql;

import java.io.IOException;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A table scan's rows as an {@link ArrowReader}, so the Parquet writer can rewrite them
 * (compaction, copy-on-write changes); batches move by transfer. {@code afterBatch} runs after each
 * batch (the memory limit check). Not thread-safe; closing the reader does not close the scan.
 */
public final class ScanReader extends ArrowReader {
  private final SqlTableScan scan;
  private final Schema schema;
  private final Runnable afterBatch;

  public ScanReader(
      BufferAllocator allocator, SqlTableScan scan, Schema schema, Runnable afterBatch) {
    super(allocator);
    this.scan = scan;
    this.schema = schema;
    this.afterBatch = afterBatch;
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    try {
      if (!scan.next()) {
        return false;
      }
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("Cannot read the table's files: " + e.getMessage(), e);
    }
    VectorSchemaRoot source = scan.root();
    List<FieldVector> targets = getVectorSchemaRoot().getFieldVectors();
    for (int i = 0; i < targets.size(); i++) {
      source.getVector(i).makeTransferPair(targets.get(i)).transfer();
    }
    getVectorSchemaRoot().setRowCount(source.getRowCount());
    afterBatch.run();
    return true;
  }

  @Override
  public long bytesRead() {
    return 0;
  }

  @Override
  protected void closeReadSource() {
    // The scan belongs to the caller.
  }

  @Override
  protected Schema readSchema() {
    return schema;
  }
}
