package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Streams the rows of some Parquet data files through arrow-dataset, with projection, a pushed down
 * Substrait filter and a row limit, conformed to the table's exact Arrow types.
 *
 * <p>Dictionary-encoded columns cost a first pass over just those columns: Flight sends
 * dictionaries once, when the stream starts, so every value must be known before the first batch.
 *
 * <p>Not thread-safe: one thread calls {@link #next()} and reads {@link #root()}. The root is owned
 * by the scan and refilled by each {@code next()}; close the scan to release everything.
 */
public final class TableScan implements AutoCloseable {
  private final ReadDictionaries dictionaries;
  private final ReadConformer conformer;
  private final ParquetFiles files;
  private final long limit;
  private long rows;

  /**
   * Opens a scan; {@code files} are file URIs in the order to read, {@code projectedSchema} the
   * table's columns to return (message format), {@code filter} a direct buffer or null, {@code
   * limit} negative for none.
   */
  public TableScan(
      BufferAllocator allocator,
      List<String> files,
      Schema projectedSchema,
      ByteBuffer filter,
      long limit,
      int batchRows)
      throws IOException {
    requireNonNull(projectedSchema, "projectedSchema is null");
    this.limit = limit;
    boolean empty = files.isEmpty() || limit == 0;
    ReadDictionaries dicts = null;
    ReadConformer conform = null;
    try {
      if (hasDictionaries(projectedSchema)) {
        dicts = new ReadDictionaries(allocator, projectedSchema);
        if (!empty) {
          collect(dicts, allocator, files, filter, batchRows);
        }
        dicts.finish();
        conform = new ReadConformer(allocator, projectedSchema, dicts);
      } else {
        conform = new ReadConformer(allocator, projectedSchema);
      }
      List<String> columns = projectedSchema.getFields().stream().map(Field::getName).toList();
      this.files = empty ? null : ParquetFiles.open(allocator, files, columns, filter, batchRows);
    } catch (IOException | RuntimeException e) {
      closeQuietly(e, conform, dicts);
      throw e;
    }
    this.dictionaries = dicts;
    this.conformer = conform;
  }

  private static void collect(
      ReadDictionaries dictionaries,
      BufferAllocator allocator,
      List<String> files,
      ByteBuffer filter,
      int batchRows)
      throws IOException {
    try (ParquetFiles pass =
        ParquetFiles.open(allocator, files, dictionaries.columns(), filter, batchRows)) {
      ArrowReader reader = pass.reader();
      while (reader.loadNextBatch()) {
        dictionaries.collect(reader.getVectorSchemaRoot());
      }
    }
  }

  private static boolean hasDictionaries(Schema schema) {
    return schema.getFields().stream().anyMatch(f -> f.getDictionary() != null);
  }

  /** The root holding the current batch; the same object for the whole scan. */
  public VectorSchemaRoot root() {
    return conformer.root();
  }

  /** The dictionaries of dictionary-encoded columns, to send when the stream starts. */
  public DictionaryProvider dictionaries() {
    return dictionaries == null ? new DictionaryProvider.MapDictionaryProvider() : dictionaries;
  }

  /** Loads the next non-empty batch into {@link #root()}; false at the end or at the limit. */
  public boolean next() throws IOException {
    if (files == null || (limit >= 0 && rows >= limit)) {
      return false;
    }
    ArrowReader reader = files.reader();
    while (reader.loadNextBatch()) {
      VectorSchemaRoot scanned = reader.getVectorSchemaRoot();
      if (scanned.getRowCount() == 0) {
        continue;
      }
      VectorSchemaRoot out = conformer.conform(scanned);
      if (limit >= 0 && rows + out.getRowCount() > limit) {
        out.setRowCount((int) (limit - rows));
      }
      rows += out.getRowCount();
      return true;
    }
    return false;
  }

  /** Rows returned so far. */
  public long rows() {
    return rows;
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(files, conformer, dictionaries);
  }

  private static void closeQuietly(Exception primary, AutoCloseable... closeables) {
    try {
      AutoCloseables.close(closeables);
    } catch (Exception e) {
      primary.addSuppressed(e);
    }
  }
}
