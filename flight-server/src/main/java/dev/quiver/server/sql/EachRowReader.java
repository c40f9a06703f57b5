package dev.quiver.server.sql;

import dev.quiver.client.TableId;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The rows an INSERT's query gives for each of several parameter rows, one query after another, as
 * one stream for one append: an {@code INSERT ... SELECT} bound with many rows commits once.
 *
 * <p>One query runs at a time; each is opened when the one before it has ended and closed then.
 * Batches move by transfer. Not thread-safe; closing the reader closes the running query.
 */
final class EachRowReader extends ArrowReader {
  private final Iterator<List<Object>> rows;
  private final Function<List<Object>, SqlQuery> open;
  private final TableId table;
  private final Schema schema;
  private final Runnable afterBatch;
  private SqlQuery query;
  private SqlQueryReader reader;

  /**
   * @param open prepares and executes the INSERT's query with one row of parameters
   * @param table the table written, whose Arrow schema is {@code schema}
   */
  EachRowReader(
      BufferAllocator allocator,
      List<List<Object>> rows,
      Function<List<Object>, SqlQuery> open,
      TableId table,
      Schema schema,
      Runnable afterBatch) {
    super(allocator);
    this.rows = rows.iterator();
    this.open = open;
    this.table = table;
    this.schema = schema;
    this.afterBatch = afterBatch;
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    while (true) {
      if (reader == null) {
        if (!rows.hasNext()) {
          return false;
        }
        query = open.apply(rows.next());
        reader = new SqlQueryReader(allocator, query, table, schema, afterBatch);
      }
      if (reader.loadNextBatch()) {
        VectorSchemaRoot from = reader.getVectorSchemaRoot();
        VectorSchemaRoot mine = getVectorSchemaRoot();
        List<FieldVector> targets = mine.getFieldVectors();
        for (int c = 0; c < targets.size(); c++) {
          from.getVector(c).makeTransferPair(targets.get(c)).transfer();
        }
        mine.setRowCount(from.getRowCount());
        return true;
      }
      closeCurrent();
    }
  }

  private void closeCurrent() throws IOException {
    try {
      AutoCloseables.close(reader, query);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("Cannot close the INSERT's query: " + e.getMessage(), e);
    } finally {
      reader = null;
      query = null;
    }
  }

  @Override
  public long bytesRead() {
    return 0;
  }

  @Override
  protected void closeReadSource() throws IOException {
    closeCurrent();
  }

  @Override
  protected Schema readSchema() {
    return schema;
  }
}
