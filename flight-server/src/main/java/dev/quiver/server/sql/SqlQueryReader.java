package dev.quiver.server.sql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A running query's rows as an {@link ArrowReader}, so the table layer can append them like a DoPut
 * stream; batches move by transfer, without copying.
 *
 * <p>When it writes into an existing table the reader has the table's schema: every column must
 * have the table's type (zoned timestamps are already given back their zone and unit), and a NOT
 * NULL column of the table must get no NULL; DuckDB itself marks every result column nullable.
 * {@code afterBatch} runs after each batch (the memory limit check). Not thread-safe; closing the
 * reader does not close the query.
 */
final class SqlQueryReader extends ArrowReader {
  private final SqlQuery query;
  private final Schema schema;
  private final TableId target;
  private final Runnable afterBatch;

  /** Rows for a new table: the query's own schema. */
  SqlQueryReader(BufferAllocator allocator, SqlQuery query, Runnable afterBatch) {
    this(allocator, query, null, query.root().getSchema(), afterBatch);
  }

  /** Rows for {@code target}, whose Arrow schema is {@code tableSchema}. */
  SqlQueryReader(
      BufferAllocator allocator,
      SqlQuery query,
      TableId target,
      Schema tableSchema,
      Runnable afterBatch) {
    super(allocator);
    this.query = query;
    this.target = target;
    this.schema = target == null ? tableSchema : checked(target, tableSchema, query.root());
    this.afterBatch = afterBatch;
  }

  static Schema checked(TableId table, Schema tableSchema, VectorSchemaRoot result) {
    List<Field> columns = tableSchema.getFields();
    List<Field> values = result.getSchema().getFields();
    if (columns.size() != values.size()) {
      throw new QuiverException(
          QuiverErrorCode.SCHEMA_MISMATCH,
          "Table %s has %d columns but the INSERT gives %d values per row",
          table,
          columns.size(),
          values.size());
    }
    for (int i = 0; i < columns.size(); i++) {
      Field column = columns.get(i);
      if (column.getDictionary() != null) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Column %s of table %s is dictionary-encoded; INSERT cannot write it yet, use DoPut",
            column.getName(),
            table);
      }
      if (!column.getType().equals(values.get(i).getType())) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is %s but the INSERT gives %s; CAST the value",
            column.getName(),
            table,
            column.getType(),
            values.get(i).getType());
      }
    }
    return new Schema(columns);
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    if (!query.next()) {
      return false;
    }
    VectorSchemaRoot source = query.root();
    VectorSchemaRoot mine = getVectorSchemaRoot();
    List<FieldVector> targets = new ArrayList<>(mine.getFieldVectors());
    for (int i = 0; i < targets.size(); i++) {
      FieldVector from = source.getVector(i);
      FieldVector to = targets.get(i);
      if (target != null && !to.getField().isNullable() && from.getNullCount() > 0) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is NOT NULL but the INSERT gives it NULL",
            to.getField().getName(),
            target);
      }
      from.makeTransferPair(to).transfer();
    }
    mine.setRowCount(source.getRowCount());
    afterBatch.run();
    return true;
  }

  @Override
  public long bytesRead() {
    return 0;
  }

  @Override
  protected void closeReadSource() {
    // The query belongs to the caller.
  }

  @Override
  protected Schema readSchema() {
    return schema;
  }
}
