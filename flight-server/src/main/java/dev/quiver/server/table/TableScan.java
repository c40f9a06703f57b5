package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Streams the rows of some Parquet data files through arrow-dataset, with projection, a pushed down
 * Substrait filter and a row limit, conformed to the table's exact Arrow types.
 *
 * <p>Not thread-safe: one thread calls {@link #next()} and reads {@link #root()}. The root is owned
 * by the scan and refilled by each {@code next()}; close the scan to release everything.
 */
public final class TableScan implements AutoCloseable {
  private final FileSystemDatasetFactory factory;
  private final Dataset dataset;
  private final Scanner scanner;
  private final ArrowReader reader;
  private final ReadConformer conformer;
  private final long limit;
  private long rows;

  /**
   * Opens a scan; {@code files} are file URIs in the order to read, {@code columns} the projection
   * (table column names, in order), {@code filter} a direct buffer or null, {@code limit} negative
   * for none.
   */
  public TableScan(
      BufferAllocator allocator,
      List<String> files,
      Schema projectedSchema,
      ByteBuffer filter,
      long limit,
      int batchRows) {
    requireNonNull(projectedSchema, "projectedSchema is null");
    this.limit = limit;
    this.conformer = new ReadConformer(allocator, projectedSchema);
    if (files.isEmpty() || limit == 0) {
      this.factory = null;
      this.dataset = null;
      this.scanner = null;
      this.reader = null;
      return;
    }
    String[] columns =
        projectedSchema.getFields().stream().map(f -> f.getName()).toArray(String[]::new);
    ScanOptions.Builder options = new ScanOptions.Builder(batchRows).columns(Optional.of(columns));
    if (filter != null) {
      options.substraitFilter(filter);
    }
    FileSystemDatasetFactory f = null;
    Dataset d = null;
    Scanner s = null;
    try {
      f =
          new FileSystemDatasetFactory(
              allocator,
              NativeMemoryPool.getDefault(),
              FileFormat.PARQUET,
              files.toArray(String[]::new));
      d = f.finish();
      s = d.newScan(options.build());
      this.reader = s.scanBatches();
    } catch (RuntimeException e) {
      closeQuietly(e, s, d, f, conformer);
      throw e;
    }
    this.factory = f;
    this.dataset = d;
    this.scanner = s;
  }

  /** The schema of the rows this scan returns. */
  public Schema schema() {
    return conformer.schema();
  }

  /** The root holding the current batch; the same object for the whole scan. */
  public VectorSchemaRoot root() {
    return conformer.root();
  }

  /** The dictionaries of dictionary-encoded columns; none today (they are served decoded). */
  public DictionaryProvider dictionaries() {
    return new DictionaryProvider.MapDictionaryProvider();
  }

  /** Loads the next non-empty batch into {@link #root()}; false at the end or at the limit. */
  public boolean next() throws java.io.IOException {
    if (reader == null || (limit >= 0 && rows >= limit)) {
      return false;
    }
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
    AutoCloseables.close(reader, scanner, dataset, factory, conformer);
  }

  private static void closeQuietly(Exception primary, AutoCloseable... closeables) {
    try {
      AutoCloseables.close(closeables);
    } catch (Exception e) {
      primary.addSuppressed(e);
    }
  }
}
