package dev.quiver.server.sql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.util.ArrayList;
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
 * <p>A column whose parameter already has the column's type (what a client binds when it uses the
 * prepared statement's parameter schema, as JDBC does) moves by buffer transfer, without a copy.
 * The other columns (another type, or left out of the column list: NULL) are cast by DuckDB, batch
 * by batch: the parameters they read are exported through the C Data interface and read by {@code
 * SELECT CAST(pN AS column type) ...}, run materialised so that a value that does not cast fails
 * the read with DuckDB's message (INVALID_SQL, which Flight reports as INVALID_ARGUMENT). Not
 * thread-safe; closing it does not close the parameter reader.
 */
final class BoundRowsReader extends ArrowReader {
  private static final String VIEW = "quiver_parameters";

  private final BoundInsert insert;
  private final ArrowReader parameters;
  private final int[] parameterOf;
  private final Schema schema;
  // Set from the first batch's schema: per column, whether its parameter moves by transfer; the
  // parameters the cast reads (in the order the cast names them p1, p2, ...); the cast's SQL.
  private boolean[] transfers;
  private List<Integer> castInputs;
  private String castSql;
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
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    while (parameters.loadNextBatch()) {
      VectorSchemaRoot batch = parameters.getVectorSchemaRoot();
      if (transfers == null) {
        plan(batch.getSchema());
      }
      if (batch.getRowCount() == 0) {
        continue;
      }
      VectorSchemaRoot cast = allTransfer() ? null : cast(batch);
      try {
        move(batch, cast);
      } finally {
        closeQuery();
      }
      return true;
    }
    return false;
  }

  private boolean allTransfer() {
    for (boolean transfer : transfers) {
      if (!transfer) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decides, from the bound batches' schema, which columns move by transfer (a parameter of exactly
   * the column's type) and which DuckDB casts (another type, or no parameter: NULL).
   */
  private void plan(Schema bound) {
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
    transfers = new boolean[columns.size()];
    castInputs = new ArrayList<>();
    StringBuilder select = new StringBuilder();
    for (int c = 0; c < columns.size(); c++) {
      Field column = columns.get(c);
      int p = parameterOf[c];
      transfers[c] =
          p >= 0
              && given.get(p).getDictionary() == null
              && given.get(p).getType().equals(column.getType())
              && Objects.equals(given.get(p).getChildren(), column.getChildren());
      if (transfers[c]) {
        continue;
      }
      String value = "NULL";
      if (p >= 0) {
        castInputs.add(p);
        value = "p" + castInputs.size();
      }
      select.append(select.length() == 0 ? "SELECT " : ", ");
      select.append("CAST(").append(value).append(" AS ");
      select.append(DuckDbTypes.sqlType(column)).append(") AS ");
      select.append(SqlText.identifier(column.getName()));
    }
    if (select.length() > 0 && castInputs.isEmpty()) {
      castInputs.add(0); // only NULL columns to make: any parameter gives the row count
    }
    StringBuilder aliases = new StringBuilder();
    for (int i = 1; i <= castInputs.size(); i++) {
      aliases.append(i == 1 ? "" : ", ").append('p').append(i);
    }
    castSql = select + " FROM " + VIEW + " AS p(" + aliases + ")";
  }

  /**
   * Casts the columns of {@code batch} that do not transfer, in DuckDB: exports the parameters the
   * cast reads through the C Data interface and returns the result, all of the batch's rows in one
   * batch of the cast columns, in table order.
   */
  private VectorSchemaRoot cast(VectorSchemaRoot batch) throws IOException {
    List<FieldVector> inputs = new ArrayList<>();
    for (int p : castInputs) {
      inputs.add(batch.getVector(p));
    }
    // Shares the batch's vectors (not closed here: the batch owns them).
    VectorSchemaRoot read = new VectorSchemaRoot(inputs);
    read.setRowCount(batch.getRowCount());
    exported = ArrowArrayStream.allocateNew(allocator);
    OneBatch source = new OneBatch(allocator, read);
    try {
      // From here the stream owns the reader: releasing the stream closes it.
      Data.exportArrayStream(allocator, source, exported);
    } catch (RuntimeException e) {
      AutoCloseables.closeNoChecked(source);
      throw e;
    }
    TableId id = insert.table();
    query = insert.engine().prepareOver(castSql, VIEW, exported, Map.of(id, insert.quiverTable()));
    query.execute(allocator, batch.getRowCount());
    if (!query.next() || query.root().getRowCount() != batch.getRowCount()) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          "Casting the parameters of the INSERT into %s gave %d rows for a batch of %d",
          id,
          query.root().getRowCount(),
          batch.getRowCount());
    }
    return query.root();
  }

  /**
   * Moves a batch into this reader's root: each column from its parameter in {@code batch} when it
   * transfers, else from {@code cast}, whose columns are those that do not, in table order.
   */
  private void move(VectorSchemaRoot batch, VectorSchemaRoot cast) throws IOException {
    VectorSchemaRoot mine = getVectorSchemaRoot();
    List<FieldVector> targets = mine.getFieldVectors();
    int next = 0;
    for (int c = 0; c < targets.size(); c++) {
      FieldVector source = transfers[c] ? batch.getVector(parameterOf[c]) : cast.getVector(next++);
      FieldVector target = targets.get(c);
      if (!source.getField().getType().equals(target.getField().getType())) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is %s but the INSERT gives %s",
            target.getField().getName(),
            insert.table(),
            target.getField().getType(),
            source.getField().getType());
      }
      if (!target.getField().isNullable() && source.getNullCount() > 0) {
        throw new QuiverException(
            QuiverErrorCode.SCHEMA_MISMATCH,
            "Column %s of table %s is NOT NULL but the INSERT gives it NULL",
            target.getField().getName(),
            insert.table());
      }
      source.makeTransferPair(target).transfer();
    }
    mine.setRowCount(batch.getRowCount());
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
