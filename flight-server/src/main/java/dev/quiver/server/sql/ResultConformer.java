package dev.quiver.server.sql;

import dev.quiver.client.TableId;
import dev.quiver.server.table.QuiverTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.sql.FlightSqlColumnMetadata;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Gives a query result back the timestamp types of the table columns it shows, and decimals their
 * Flight SQL precision and scale metadata.
 *
 * <p>DuckDB knows one zone per session (Quiver's is UTC), holds zoned timestamps in microseconds,
 * and the Parquet files keep zoned nanoseconds as plain nanoseconds. So a result column named like
 * a timestamp column of a table the query reads, and zoned like it, gets that column's exact type:
 * its zone name and unit. The instants are unchanged (Arrow timestamps with a zone are UTC
 * instants); only the unit conversion can drop digits, and only below the table's own precision.
 * Results served to SQL clients ({@code zonesInUtc}) name zone UTC instead of the table's: the
 * Flight SQL JDBC driver 18.3 shows a zoned value as its wall-clock time in the column's zone read
 * back in the JVM's zone, so a column named Europe/Oslo came back one or two hours off in a UTC JVM
 * (see docs/architecture.md). Writes keep the table's exact type. Other columns are handed over as
 * they are: their buffers are transferred, not copied.
 *
 * <p>Not thread-safe; owns its root, which {@link #close()} frees.
 */
final class ResultConformer implements AutoCloseable {
  private final VectorSchemaRoot root;
  private final boolean[] convert;

  private ResultConformer(BufferAllocator allocator, Schema target, boolean[] convert) {
    this.root = VectorSchemaRoot.create(target, allocator);
    this.convert = convert;
  }

  /** {@code results} as {@link #create} sends them. */
  static Schema restoredSchema(
      Schema results, Map<TableId, QuiverTable> tables, boolean zonesInUtc) {
    List<Field> fields = new ArrayList<>();
    for (Field field : results.getFields()) {
      fields.add(target(field, tables, zonesInUtc));
    }
    return new Schema(fields, results.getCustomMetadata());
  }

  /**
   * The field a result column is sent as: its table's timestamp type where {@link
   * #restoredTimestamp} finds one, and Flight SQL's precision and scale metadata on decimals (what
   * JDBC's ResultSetMetaData reports).
   */
  static Field target(Field field, Map<TableId, QuiverTable> tables, boolean zonesInUtc) {
    ArrowType type = field.getType();
    ArrowType.Timestamp restored = restoredTimestamp(field, tables, zonesInUtc);
    if (restored != null) {
      type = restored;
    }
    Map<String, String> metadata = field.getMetadata();
    if (type instanceof ArrowType.Decimal decimal) {
      metadata = new HashMap<>(metadata);
      metadata.putAll(
          new FlightSqlColumnMetadata.Builder()
              .precision(decimal.getPrecision())
              .scale(decimal.getScale())
              .build()
              .getMetadataMap());
    }
    if (type.equals(field.getType()) && metadata.equals(field.getMetadata())) {
      return field;
    }
    return new Field(
        field.getName(), new FieldType(field.isNullable(), type, null, metadata), List.of());
  }

  /**
   * A conformer of results of {@code exported} into {@code allocator}. Results are imported into an
   * allocator under the same root that never refuses (see SqlQuery#execute); each batch's buffers
   * are then transferred into {@code allocator}, which takes over their accounting. A transfer is
   * never refused, even past a limit: the caller checks its limit after each batch.
   */
  static ResultConformer create(
      BufferAllocator allocator,
      Schema exported,
      Map<TableId, QuiverTable> tables,
      boolean zonesInUtc) {
    List<Field> fields = new ArrayList<>();
    boolean[] convert = new boolean[exported.getFields().size()];
    for (int i = 0; i < convert.length; i++) {
      Field field = exported.getFields().get(i);
      Field target = target(field, tables, zonesInUtc);
      fields.add(target);
      convert[i] = !target.getType().equals(field.getType());
    }
    return new ResultConformer(
        allocator, new Schema(fields, exported.getCustomMetadata()), convert);
  }

  /**
   * The table type a result timestamp column should have, or null to leave it alone; with {@code
   * zonesInUtc} a zoned column keeps the table's unit but names zone UTC.
   */
  static ArrowType.Timestamp restoredTimestamp(
      Field field, Map<TableId, QuiverTable> tables, boolean zonesInUtc) {
    if (!(field.getType() instanceof ArrowType.Timestamp result)) {
      return null;
    }
    for (QuiverTable table : tables.values()) {
      for (Field column : table.arrowSchema().getFields()) {
        if (column.getName().equals(field.getName())
            && column.getType() instanceof ArrowType.Timestamp stored
            && sameKind(stored, result)) {
          return zonesInUtc && stored.getTimezone() != null
              ? new ArrowType.Timestamp(stored.getUnit(), "UTC")
              : stored;
        }
      }
    }
    return null;
  }

  // Zoned to zoned, plain to plain, and zoned nanoseconds to the plain nanoseconds they are
  // stored as.
  private static boolean sameKind(ArrowType.Timestamp table, ArrowType.Timestamp result) {
    boolean tableZoned = table.getTimezone() != null;
    boolean resultZoned = result.getTimezone() != null;
    return tableZoned == resultZoned
        || (tableZoned
            && table.getUnit() == TimeUnit.NANOSECOND
            && result.getUnit() == table.getUnit());
  }

  VectorSchemaRoot root() {
    return root;
  }

  /**
   * Moves {@code batch} into {@link #root()}: transfers the buffers of columns that keep their type
   * (leaving those columns of {@code batch} empty) and converts the restored ones into new buffers.
   */
  VectorSchemaRoot conform(VectorSchemaRoot batch) {
    int rows = batch.getRowCount();
    for (int i = 0; i < convert.length; i++) {
      FieldVector from = batch.getVector(i);
      FieldVector to = root.getVector(i);
      if (convert[i]) {
        copyTimestamps((TimeStampVector) from, (TimeStampVector) to, rows);
      } else {
        // Zero-copy: the import's buffers change owner. Measured faster than the memcpy it replaces
        // (benchmarks/README.md, "DoGet: transfer instead of copy").
        from.makeTransferPair(to).transfer();
      }
    }
    root.setRowCount(rows);
    return root;
  }

  private static void copyTimestamps(TimeStampVector from, TimeStampVector to, int rows) {
    TimeUnit fromUnit = ((ArrowType.Timestamp) from.getField().getType()).getUnit();
    TimeUnit toUnit = ((ArrowType.Timestamp) to.getField().getType()).getUnit();
    long multiply = Math.max(1, perSecond(toUnit) / perSecond(fromUnit));
    long divide = Math.max(1, perSecond(fromUnit) / perSecond(toUnit));
    to.clear();
    to.allocateNew(rows);
    for (int r = 0; r < rows; r++) {
      if (from.isNull(r)) {
        to.setNull(r);
      } else {
        to.set(r, Math.floorDiv(from.get(r) * multiply, divide));
      }
    }
    to.setValueCount(rows);
  }

  private static long perSecond(TimeUnit unit) {
    return switch (unit) {
      case SECOND -> 1L;
      case MILLISECOND -> 1_000L;
      case MICROSECOND -> 1_000_000L;
      case NANOSECOND -> 1_000_000_000L;
    };
  }

  @Override
  public void close() {
    AutoCloseables.closeNoChecked(root);
  }
}
