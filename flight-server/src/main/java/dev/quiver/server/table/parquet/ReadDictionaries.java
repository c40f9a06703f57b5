package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.BaseLargeVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Stream-wide dictionaries for a table's dictionary-encoded string columns, so a read can serve
 * them dictionary-encoded again.
 *
 * <p>Flight sends dictionaries once, at the start of a stream, but the Parquet files hold plain
 * strings. So a read that wants the table's exact types makes a first pass over the dictionary
 * columns ({@link #columns()}) and hands every scanned batch to {@link #collect}, then calls {@link
 * #finish()} and gives this provider to Flight's {@code start(root, provider)} and to a {@link
 * ReadConformer}, which encodes each batch against these dictionaries. Values keep the order they
 * were first seen in. Memory grows with the number of distinct values, which is what dictionary
 * encoding assumes is small.
 *
 * <p>Not thread-safe. The dictionary vectors belong to this object and are freed by {@link
 * #close()}.
 */
public final class ReadDictionaries implements DictionaryProvider, AutoCloseable {
  private final BufferAllocator allocator;
  private final Map<String, Field> fields = new LinkedHashMap<>();
  private final Map<String, Set<ByteBuffer>> values = new HashMap<>();
  private final Map<Long, Dictionary> dictionaries = new LinkedHashMap<>();
  private boolean finished;

  /**
   * Empty dictionaries for the dictionary-encoded columns of {@code tableSchema} (message format).
   */
  public ReadDictionaries(BufferAllocator allocator, Schema tableSchema) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    for (Field field : tableSchema.getFields()) {
      if (field.getDictionary() != null) {
        fields.put(field.getName(), field);
        values.put(field.getName(), new LinkedHashSet<>());
      }
    }
  }

  /** The dictionary-encoded columns, to scan in the first pass. */
  public List<String> columns() {
    return List.copyOf(fields.keySet());
  }

  /**
   * Adds the distinct values of a scanned batch's dictionary columns (other columns are ignored).
   */
  public void collect(VectorSchemaRoot scanned) {
    if (finished) {
      throw new IllegalStateException("The dictionaries are already finished");
    }
    for (Map.Entry<String, Set<ByteBuffer>> column : values.entrySet()) {
      FieldVector vector = scanned.getVector(column.getKey());
      if (vector == null) {
        throw new IllegalStateException("The scanned batch has no column " + column.getKey());
      }
      Set<ByteBuffer> seen = column.getValue();
      for (int i = 0; i < vector.getValueCount(); i++) {
        if (!vector.isNull(i)) {
          seen.add(ByteBuffer.wrap(bytes(vector, i)));
        }
      }
    }
  }

  private static byte[] bytes(FieldVector vector, int index) {
    if (vector instanceof BaseVariableWidthVector) {
      return ((BaseVariableWidthVector) vector).get(index);
    }
    if (vector instanceof BaseLargeVariableWidthVector) {
      return ((BaseLargeVariableWidthVector) vector).get(index);
    }
    throw new IllegalStateException("Column " + vector.getName() + " is not a string column");
  }

  /** Builds the dictionary vectors from the collected values; call once, after the first pass. */
  public void finish() {
    if (finished) {
      throw new IllegalStateException("The dictionaries are already finished");
    }
    finished = true;
    for (Field field : fields.values()) {
      Set<ByteBuffer> seen = values.remove(field.getName());
      // Named as Arrow names dictionary vectors it reads (ArrowReader, FlightStream).
      long id = field.getDictionary().getId();
      FieldVector vector =
          new Field("DICT" + id, FieldType.nullable(field.getType()), null).createVector(allocator);
      try {
        int index = 0;
        for (ByteBuffer value : seen) {
          if (vector instanceof VarCharVector) {
            ((VarCharVector) vector).setSafe(index++, value.array());
          } else {
            ((LargeVarCharVector) vector).setSafe(index++, value.array());
          }
        }
        vector.setValueCount(index);
        dictionaries.put(
            field.getDictionary().getId(), new Dictionary(vector, field.getDictionary()));
      } catch (RuntimeException e) {
        vector.close();
        throw e;
      }
    }
  }

  /** The index type of an encoding; Arrow's default is int32. */
  static ArrowType.Int indexType(DictionaryEncoding encoding) {
    return encoding.getIndexType() == null ? new ArrowType.Int(32, true) : encoding.getIndexType();
  }

  @Override
  public Dictionary lookup(long id) {
    if (!finished) {
      throw new IllegalStateException("The dictionaries are not finished");
    }
    return dictionaries.get(id);
  }

  @Override
  public Set<Long> getDictionaryIds() {
    return dictionaries.keySet();
  }

  @Override
  public void close() {
    List<AutoCloseable> vectors = new ArrayList<>();
    for (Dictionary dictionary : dictionaries.values()) {
      vectors.add(dictionary.getVector());
    }
    dictionaries.clear();
    try {
      AutoCloseables.close(vectors);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot free the dictionaries", e);
    }
  }
}
