package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Turns the batches arrow-dataset reads from Quiver's Parquet files back into a table's exact Arrow
 * types.
 *
 * <p>Arrow C++ reads the files with Parquet-derived types (utf8 for large_utf8, binary for
 * fixed_size_binary, float32 for float16, timestamp[us, tz=UTC] for any zoned timestamp, time64[us]
 * for time32, list for large_list, everything nullable, its own list and map child names). This
 * class relabels zero-copy where the layouts match and converts the buffers where they differ.
 *
 * <p>Dictionary-encoded string columns come back as plain strings: {@link #schema()} is the table
 * schema with those columns decoded (Flight sends dictionaries once per stream, so re-encoding
 * would need a stream-wide dictionary, which this class does not build).
 *
 * <p>The root returned by {@link #conform} belongs to this conformer and is reused: it is valid
 * until the next call or {@link #close()}. Not thread-safe; use one conformer per scan.
 */
public final class ReadConformer implements AutoCloseable {
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;

  /**
   * A conformer to {@code tableSchema}, which may be a projection of the table's schema (the
   * scanned batches are matched to it by column name).
   */
  public ReadConformer(BufferAllocator allocator, Schema tableSchema) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    this.root = VectorSchemaRoot.create(readSchema(tableSchema), allocator);
  }

  /**
   * The schema Quiver serves for a table schema: the table's, with dictionary-encoded columns as
   * their plain value type.
   */
  public static Schema readSchema(Schema tableSchema) {
    List<Field> fields = new ArrayList<>();
    for (Field field : tableSchema.getFields()) {
      if (field.getDictionary() == null) {
        fields.add(field);
      } else {
        FieldType plain =
            new FieldType(field.isNullable(), field.getType(), null, field.getMetadata());
        fields.add(new Field(field.getName(), plain, field.getChildren()));
      }
    }
    return new Schema(fields, tableSchema.getCustomMetadata());
  }

  /** The root {@link #conform} fills: the same object for this conformer's whole life. */
  public VectorSchemaRoot root() {
    return root;
  }

  /** The schema of the roots {@link #conform} returns. */
  public Schema schema() {
    return root.getSchema();
  }

  /**
   * The scanned batch in the table's types, in this conformer's reused root.
   *
   * <p>The result shares buffers with {@code scanned} where it can (reference-counted), so the
   * caller may close or reuse {@code scanned} at once.
   */
  public VectorSchemaRoot conform(VectorSchemaRoot scanned) {
    requireNonNull(scanned, "scanned is null");
    for (FieldVector target : root.getFieldVectors()) {
      String name = target.getField().getName();
      FieldVector source = scanned.getVector(name);
      if (source == null) {
        throw new IllegalStateException("The scanned batch has no column " + name);
      }
      VectorConversions.copyInto(source, target, allocator);
    }
    root.setRowCount(scanned.getRowCount());
    return root;
  }

  @Override
  public void close() {
    root.close();
  }
}
