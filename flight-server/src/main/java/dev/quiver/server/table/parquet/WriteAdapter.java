package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryEncoder;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Presents a put stream to DuckDB in types DuckDB imports without loss: float16 becomes float32 (a
 * converted copy), timestamp[ns, tz] becomes timestamp[ns] (the same buffers, relabelled),
 * dictionary-encoded strings are decoded, and everything else passes through zero-copy.
 *
 * <p>The source stays owned by the caller: closing this reader does not close it. This reader's own
 * vectors are closed with it. DuckDB calls {@link #loadNextBatch} from the thread that runs the
 * COPY, one call at a time.
 *
 * <p>A failure of the source (or of a conversion) ends the stream instead of propagating: it is
 * kept in {@link #failure()} and {@link #loadNextBatch} returns false from then on, so DuckDB's
 * COPY finishes normally and the caller throws the failure and deletes the file. Why: when the
 * Arrow stream fails under a COPY whose Parquet writer still has row groups in flight, DuckDB 2.0.0
 * with {@code threads = 1} hangs for good in {@code AsyncFileWriter::AbortWrites} (found by
 * MemoryBoundIT: a put refused for memory mid-file never returned). DuckDB would also only hand the
 * exception on as the text of an SQLException.
 */
public final class WriteAdapter extends ArrowReader {
  private final ArrowReader source;
  private final Schema presented;
  private final long byteBudget;
  private volatile Throwable failure;
  private volatile boolean sourceExhausted;
  private volatile long rows;
  private volatile long bytes;
  private volatile boolean preloaded;

  /**
   * A reader over all of {@code source}'s batches, whose schema must have the types of {@code
   * tableSchema} (as checked by {@link ArrowSchemas#checkAppendCompatible}).
   */
  public WriteAdapter(BufferAllocator allocator, ArrowReader source, Schema tableSchema) {
    this(allocator, source, tableSchema, Long.MAX_VALUE);
  }

  /**
   * A reader over {@code source}'s next batches that ends (without reading further) once the
   * batches it presented reach {@code byteBudget} Arrow buffer bytes; the batch that crosses the
   * budget is still presented, so a segment holds at least one batch. Segment a stream by creating
   * one adapter after another over the same source until {@link #sourceExhausted()}.
   */
  public WriteAdapter(
      BufferAllocator allocator, ArrowReader source, Schema tableSchema, long byteBudget) {
    this(allocator, source, tableSchema, byteBudget, false);
  }

  /**
   * As {@link #WriteAdapter(BufferAllocator, ArrowReader, Schema, long)}; when {@code preloaded},
   * the batch the source holds now (its caller loaded it to look at it) is presented first.
   */
  public WriteAdapter(
      BufferAllocator allocator,
      ArrowReader source,
      Schema tableSchema,
      long byteBudget,
      boolean preloaded) {
    super(allocator);
    this.preloaded = preloaded;
    this.source = requireNonNull(source, "source is null");
    this.presented = presentedSchema(tableSchema);
    if (byteBudget < 1) {
      throw new IllegalArgumentException("byteBudget must be positive, got " + byteBudget);
    }
    this.byteBudget = byteBudget;
  }

  /** Whether the source reported its end (as opposed to this segment reaching its budget). */
  public boolean sourceExhausted() {
    return sourceExhausted;
  }

  /** The rows presented so far. */
  public long rows() {
    return rows;
  }

  /** The Arrow buffer bytes presented so far. */
  public long bytes() {
    return bytes;
  }

  /** The schema DuckDB sees for a table schema (top-level columns only are adapted). */
  public static Schema presentedSchema(Schema tableSchema) {
    List<Field> fields = new ArrayList<>();
    for (Field field : tableSchema.getFields()) {
      fields.add(presentedField(field));
    }
    return new Schema(fields);
  }

  private static Field presentedField(Field field) {
    ArrowType type = field.getType();
    if (type instanceof ArrowType.FloatingPoint
        && ((ArrowType.FloatingPoint) type).getPrecision() == FloatingPointPrecision.HALF) {
      type = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
    } else if (type instanceof ArrowType.Timestamp
        && ((ArrowType.Timestamp) type).getTimezone() != null
        && ((ArrowType.Timestamp) type).getUnit()
            == org.apache.arrow.vector.types.TimeUnit.NANOSECOND) {
      type = new ArrowType.Timestamp(org.apache.arrow.vector.types.TimeUnit.NANOSECOND, null);
    }
    // A dictionary field's type is already its value type; dropping the encoding decodes it.
    return new Field(
        field.getName(), new FieldType(field.isNullable(), type, null), field.getChildren());
  }

  /** The exception the source or a conversion threw, which ended the stream; or null. */
  public Throwable failure() {
    return failure;
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    try {
      if (bytes >= byteBudget || sourceExhausted || failure != null) {
        return false;
      }
      if (preloaded) {
        preloaded = false;
      } else if (!source.loadNextBatch()) {
        sourceExhausted = true;
        return false;
      }
      VectorSchemaRoot in = source.getVectorSchemaRoot();
      VectorSchemaRoot out = getVectorSchemaRoot();
      for (int i = 0; i < out.getFieldVectors().size(); i++) {
        FieldVector vector = in.getVector(i);
        if (vector.getField().getDictionary() != null) {
          Dictionary dictionary = source.lookup(vector.getField().getDictionary().getId());
          try (ValueVector decoded = DictionaryEncoder.decode(vector, dictionary, allocator)) {
            VectorConversions.copyInto((FieldVector) decoded, out.getVector(i), allocator);
          }
        } else {
          VectorConversions.copyInto(vector, out.getVector(i), allocator);
        }
      }
      out.setRowCount(in.getRowCount());
      rows += out.getRowCount();
      long batchBytes = 0;
      for (FieldVector vector : out.getFieldVectors()) {
        batchBytes += vector.getBufferSize();
      }
      bytes += batchBytes;
      return true;
    } catch (IOException | RuntimeException e) {
      failure = e;
      return false;
    } catch (Error e) {
      failure = e;
      throw e;
    }
  }

  @Override
  public long bytesRead() {
    return source.bytesRead();
  }

  @Override
  protected void closeReadSource() {
    // The caller owns the source.
  }

  @Override
  protected Schema readSchema() {
    return presented;
  }
}
