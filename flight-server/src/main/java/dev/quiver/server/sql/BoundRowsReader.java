package dev.quiver.server.sql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A {@link BoundInsert}'s parameter batches as the table's rows, for the table layer to append like
 * a DoPut stream.
 *
 * <p>When every column's parameter already has the column's type (what a client binds when it uses
 * the prepared statement's parameter schema, as JDBC does), a batch's buffers are transferred to
 * the table's columns, without a copy. Otherwise each batch is cast by DuckDB: it is exported
 * through the C Data interface and read by {@code SELECT CAST(value AS column type) ...}, run
 * materialised so that a value that does not cast fails the read with DuckDB's message
 * (INVALID_SQL, which Flight reports as INVALID_ARGUMENT). Not thread-safe; closing it does not
 * close the parameter reader.
 */
final class BoundRowsReader extends ArrowReader {
  private static final String VIEW = "quiver_parameters";

  private final BoundInsert insert;
  private final ArrowReader parameters;
  private final int[] parameterOf;
  private final Schema schema;
  private final String castSql;
  private Boolean direct;
  private SqlQuery query;
  private ArrowArrayStream exported;

  BoundRowsReader(BufferAllocator allocator, BoundInsert insert, ArrowReader parameters) {
    super(allocator);
    this.insert = insert;
    this.parameters = parameters;
    this.parameterOf = insert.parameterOf();
    List<Field> columns = insert.quiverTable().arrowSchema().getFields();
    for (Field column : columns) {
      if (column.getDictionary() != null) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_OPERATION,
            "Column %s of table %s is dictionary-encoded; INSERT cannot write it yet, use DoPut",
            column.getName(),
            insert.table());
      }
    }
    this.schema = new Schema(columns);
    this.castSql = castSql(columns, parameterOf, insert.parameterCount());
  }

  /** {@code SELECT CAST(pN AS type) AS "column", ... FROM quiver_parameters AS p(p1, p2, ...)}. */
  private static String castSql(List<Field> columns, int[] parameterOf, int parameters) {
    StringBuilder sql = new StringBuilder("SELECT ");
    for (int c = 0; c < columns.size(); c++) {
      sql.append(c == 0 ? "" : ", ").append("CAST(");
      sql.append(parameterOf[c] < 0 ? "NULL" : "p" + (parameterOf[c] + 1));
      sql.append(" AS ").append(DuckDbTypes.sqlType(columns.get(c))).append(") AS ");
      sql.append(SqlText.identifier(columns.get(c).getName()));
    }
    sql.append(" FROM ").append(VIEW).append(" AS p(");
    for (int p = 0; p < parameters; p++) {
      sql.append(p == 0 ? "" : ", ").append('p').append(p + 1);
    }
    return sql.append(')').toString();
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    while (true) {
      if (query != null) {
        if (query.next()) {
          move(query.root(), false);
          return true;
        }
        closeQuery();
      }
      if (!parameters.loadNextBatch()) {
        return false;
      }
      VectorSchemaRoot batch = parameters.getVectorSchemaRoot();
      if (direct == null) {
        direct = transferable(batch.getSchema());
      }
      if (direct) {
        move(batch, true);
        return true;
      }
      cast(batch);
    }
  }

  /**
   * Whether batches of {@code bound} move to the table by transfer: one parameter per value, each
   * column filled by a parameter of exactly its type.
   */
  private boolean transferable(Schema bound) {
    List<Field> given = bound.getFields();
    if (given.size() != insert.parameterCount()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "The INSERT into %s takes %d parameters but the bound batches have %d columns",
          insert.table(),
          insert.parameterCount(),
          given.size());
    }
    List<Field> columns = schema.getFields();
    for (int c = 0; c < columns.size(); c++) {
      if (parameterOf[c] < 0) {
        return false;
      }
      Field parameter = given.get(parameterOf[c]);
      if (parameter.getDictionary() != null
          || !parameter.getType().equals(columns.get(c).getType())
          || !Objects.equals(parameter.getChildren(), columns.get(c).getChildren())) {
        return false;
      }
    }
    return true;
  }

  /** Starts the DuckDB cast of {@code batch}; its rows come from {@link #query} next. */
  private void cast(VectorSchemaRoot batch) {
    exported = ArrowArrayStream.allocateNew(allocator);
    OneBatch source = new OneBatch(allocator, batch);
    try {
      // From here the stream owns the reader: releasing the stream closes it.
      Data.exportArrayStream(allocator, source, exported);
    } catch (RuntimeException e) {
      AutoCloseables.closeNoChecked(source);
      throw e;
    }
    TableId id = insert.table();
    query = insert.engine().prepareOver(castSql, VIEW, exported, Map.of(id, insert.quiverTable()));
    query.execute(allocator, SqlEngine.WRITE_BATCH_ROWS);
    SqlQueryReader.checked(id, schema, query.root());
  }

  /**
   * Moves {@code from}'s columns into this reader's root: by parameter position when {@code
   * parameters}, else column by column (a cast result is already in table order).
   */
  private void move(VectorSchemaRoot from, boolean parameters) throws IOException {
    VectorSchemaRoot mine = getVectorSchemaRoot();
    List<FieldVector> targets = mine.getFieldVectors();
    for (int c = 0; c < targets.size(); c++) {
      FieldVector source = from.getVector(parameters ? parameterOf[c] : c);
      FieldVector target = targets.get(c);
      if (!target.getField().isNullable() && source.getNullCount() > 0) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is NOT NULL but the INSERT gives it NULL",
            target.getField().getName(),
            insert.table());
      }
      source.makeTransferPair(target).transfer();
    }
    mine.setRowCount(from.getRowCount());
  }

  private void closeQuery() {
    try {
      AutoCloseables.close(query);
    } catch (Exception e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot close the cast query: %s", e.getMessage());
    } finally {
      query = null;
      releaseExported();
    }
  }

  private void releaseExported() {
    if (exported != null) {
      // DuckDB releases the stream when its scan ends; one a failed query never read is ours.
      if (exported.snapshot().release != 0) {
        exported.release();
      }
      exported.close();
      exported = null;
    }
  }

  @Override
  public long bytesRead() {
    return 0;
  }

  @Override
  protected void closeReadSource() {
    closeQuery();
  }

  @Override
  protected Schema readSchema() {
    return schema;
  }

  /** One batch as an {@link ArrowReader}, for DuckDB to read through the C Data interface. */
  private static final class OneBatch extends ArrowReader {
    private final VectorSchemaRoot batch;
    private boolean read;

    OneBatch(BufferAllocator allocator, VectorSchemaRoot batch) {
      super(allocator);
      this.batch = batch;
    }

    @Override
    public boolean loadNextBatch() throws IOException {
      if (read) {
        return false;
      }
      read = true;
      // The buffers are shared by reference count, not copied.
      try (ArrowRecordBatch rows = new VectorUnloader(batch).getRecordBatch()) {
        new VectorLoader(getVectorSchemaRoot()).load(rows);
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
