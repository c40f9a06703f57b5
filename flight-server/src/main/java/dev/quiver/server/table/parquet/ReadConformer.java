package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryEncoder;
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
 * <p>Dictionary-encoded string columns: without {@link ReadDictionaries} they come back as plain
 * strings ({@link #readSchema}); with them, they come back encoded against those stream-wide
 * dictionaries, in the table's exact type (the root then holds index vectors, as Flight expects
 * with {@code start(root, dictionaries)}).
 *
 * <p>The root returned by {@link #conform} belongs to this conformer and is reused: it is valid
 * until the next call or {@link #close()}. Not thread-safe; use one conformer per scan.
 */
public final class ReadConformer implements AutoCloseable {
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final Map<String, DictionaryColumn> dictionaryColumns = new HashMap<>();

  /**
   * A conformer to {@code tableSchema}, which may be a projection of the table's schema (the
   * scanned batches are matched to it by column name); dictionary columns come back plain.
   */
  public ReadConformer(BufferAllocator allocator, Schema tableSchema) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    this.root = VectorSchemaRoot.create(readSchema(tableSchema), allocator);
  }

  /**
   * A conformer that dictionary-encodes the table's dictionary columns against {@code
   * dictionaries}, which must be finished and hold every value the scan will meet.
   */
  public ReadConformer(
      BufferAllocator allocator, Schema tableSchema, ReadDictionaries dictionaries) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    requireNonNull(dictionaries, "dictionaries is null");
    List<Field> fields = new ArrayList<>();
    for (Field field : tableSchema.getFields()) {
      if (field.getDictionary() == null) {
        fields.add(field);
      } else {
        // Memory format: the vector holds the indices.
        fields.add(
            new Field(
                field.getName(),
                new FieldType(
                    field.isNullable(),
                    ReadDictionaries.indexType(field.getDictionary()),
                    field.getDictionary(),
                    field.getMetadata()),
                null));
      }
    }
    this.root =
        VectorSchemaRoot.create(new Schema(fields, tableSchema.getCustomMetadata()), allocator);
    try {
      for (Field field : tableSchema.getFields()) {
        if (field.getDictionary() != null) {
          Field plain = new Field(field.getName(), FieldType.nullable(field.getType()), null);
          dictionaryColumns.put(
              field.getName(),
              new DictionaryColumn(
                  plain.createVector(allocator),
                  new DictionaryEncoder(
                      dictionaries.lookup(field.getDictionary().getId()), allocator)));
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private record DictionaryColumn(FieldVector plain, DictionaryEncoder encoder) {}

  /**
   * The schema Quiver serves for a table schema without dictionaries: the table's, with
   * dictionary-encoded columns as their plain value type.
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
   *
   * @throws IllegalArgumentException when a dictionary column holds a value its dictionary lacks
   */
  public VectorSchemaRoot conform(VectorSchemaRoot scanned) {
    requireNonNull(scanned, "scanned is null");
    for (FieldVector target : root.getFieldVectors()) {
      String name = target.getField().getName();
      FieldVector source = scanned.getVector(name);
      if (source == null) {
        throw new IllegalStateException("The scanned batch has no column " + name);
      }
      DictionaryColumn dictionary = dictionaryColumns.get(name);
      if (dictionary == null) {
        VectorConversions.copyInto(source, target, allocator);
      } else {
        VectorConversions.copyInto(source, dictionary.plain(), allocator);
        try (ValueVector indices = dictionary.encoder().encode(dictionary.plain())) {
          indices.makeTransferPair(target).transfer();
        }
      }
    }
    root.setRowCount(scanned.getRowCount());
    return root;
  }

  @Override
  public void close() {
    List<AutoCloseable> closeables = new ArrayList<>();
    closeables.add(root);
    for (DictionaryColumn column : dictionaryColumns.values()) {
      closeables.add(column.plain());
    }
    try {
      AutoCloseables.close(closeables);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot close the read conformer", e);
    }
  }
}
