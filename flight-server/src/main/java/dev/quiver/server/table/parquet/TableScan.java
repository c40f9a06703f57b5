package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.NativeMemoryAccount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams the rows of some Parquet data files through arrow-dataset, with projection, a pushed down
 * Substrait filter and a row limit, conformed to the table's exact Arrow types.
 *
 * <p>Dictionary-encoded columns cost a first pass over just those columns: Flight sends
 * dictionaries once, when the stream starts, so every value must be known before the first batch.
 *
 * <p>The C++ memory of the scan (Parquet pages, decompression and decoding buffers) comes from a
 * listenable pool of its own, charged to the same allocator ({@link NativeMemoryAccount}); when the
 * allocator's limit refuses it, the scan fails with QUERY_MEMORY_EXCEEDED. Batches from C++ are
 * imported into a separate allocator that must not refuse them (see {@link
 * dev.quiver.server.memory.MemoryGovernor#newImportAllocator}: a refused import leaks the batch in
 * Arrow Java 18.3), then conformed into the call's allocator, where they count a second time while
 * the conformed batch shares their buffers.
 *
 * <p>Not thread-safe: one thread calls {@link #next()} and reads {@link #root()}. The root is owned
 * by the scan and refilled by each {@code next()}; close the scan to release everything.
 */
public final class TableScan implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TableScan.class);
  private final ReadDictionaries dictionaries;
  private final ReadConformer conformer;
  private final ParquetFiles files;
  private final NativeMemoryAccount account;
  private final NativeMemoryPool pool;
  private final long limit;
  private long rows;

  /**
   * Opens a scan that imports C++ batches into {@code allocator} itself: for callers whose
   * allocator has no limit of its own (tools, benchmarks).
   */
  public TableScan(
      BufferAllocator allocator,
      List<String> files,
      Schema projectedSchema,
      ByteBuffer filter,
      long limit,
      int batchRows)
      throws IOException {
    this(allocator, allocator, files, projectedSchema, filter, limit, batchRows);
  }

  /**
   * Opens a scan; {@code allocator} is the call's, {@code imports} takes C++ batches as they arrive
   * and must not refuse them (it must outlive the scan and share {@code allocator}'s root), {@code
   * files} are file URIs in the order to read, {@code projectedSchema} the table's columns to
   * return (message format), {@code filter} a direct buffer or null, {@code limit} negative for
   * none.
   */
  public TableScan(
      BufferAllocator allocator,
      BufferAllocator imports,
      List<String> files,
      Schema projectedSchema,
      ByteBuffer filter,
      long limit,
      int batchRows)
      throws IOException {
    requireNonNull(projectedSchema, "projectedSchema is null");
    this.limit = limit;
    boolean empty = files.isEmpty() || limit == 0;
    NativeMemoryAccount nativeAccount = new NativeMemoryAccount(allocator);
    NativeMemoryPool nativePool = null;
    ReadDictionaries dicts = null;
    ReadConformer conform = null;
    try {
      nativePool = NativeMemoryPool.createListenable(nativeAccount);
      if (hasDictionaries(projectedSchema)) {
        dicts = new ReadDictionaries(allocator, projectedSchema);
        if (!empty) {
          collect(dicts, imports, nativePool, files, filter, batchRows);
        }
        dicts.finish();
        conform = new ReadConformer(allocator, projectedSchema, dicts);
      } else {
        conform = new ReadConformer(allocator, projectedSchema);
      }
      List<String> columns = projectedSchema.getFields().stream().map(Field::getName).toList();
      this.files =
          empty ? null : ParquetFiles.open(imports, nativePool, files, columns, filter, batchRows);
    } catch (IOException | RuntimeException e) {
      QuiverException refusal = refusal(nativeAccount, e);
      closeQuietly(refusal == null ? e : refusal, conform, dicts);
      closeQuietly(refusal == null ? e : refusal, drainedOrNull(nativePool, nativeAccount));
      closeQuietly(refusal == null ? e : refusal, nativeAccount);
      if (refusal != null) {
        throw refusal;
      }
      throw e;
    }
    this.dictionaries = dicts;
    this.conformer = conform;
    this.account = nativeAccount;
    this.pool = nativePool;
  }

  // The C++ error of a refused reservation reaches Java as whatever the JNI layer made of it; the
  // account's own error says which limit refused. Null when e is not the result of a refusal.
  private static QuiverException refusal(NativeMemoryAccount account, Exception e) {
    QuiverException refusal = account.refusal();
    if (refusal != null && refusal != e) {
      refusal.addSuppressed(e);
    }
    return refusal;
  }

  private static void collect(
      ReadDictionaries dictionaries,
      BufferAllocator allocator,
      NativeMemoryPool pool,
      List<String> files,
      ByteBuffer filter,
      int batchRows)
      throws IOException {
    try (ParquetFiles pass =
        ParquetFiles.open(allocator, pool, files, dictionaries.columns(), filter, batchRows)) {
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
    while (loadNextBatch(reader)) {
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

  private boolean loadNextBatch(ArrowReader reader) throws IOException {
    try {
      return reader.loadNextBatch();
    } catch (IOException | RuntimeException e) {
      QuiverException refusal = refusal(account, e);
      if (refusal != null) {
        throw refusal;
      }
      throw e;
    }
  }

  /** Bytes of C++ memory charged to the allocator now (for tests and metrics). */
  long nativeBytes() {
    return account.held();
  }

  /** Rows returned so far. */
  public long rows() {
    return rows;
  }

  @Override
  public void close() throws Exception {
    // The pool goes last: the conformer and the dictionaries may share buffers allocated in it.
    try {
      AutoCloseables.close(files, conformer, dictionaries);
    } finally {
      AutoCloseables.close(drainedOrNull(pool, account), account);
    }
  }

  // A pool that C++ may still free through is left open: a few hundred bytes of C++ and a JNI
  // reference to the closed account, against a crash. That happens after a refused reserve and
  // when a scan is closed before its end while readahead still holds buffers.
  private static NativeMemoryPool drainedOrNull(
      NativeMemoryPool pool, NativeMemoryAccount account) {
    if (pool == null || account.drained()) {
      return pool;
    }
    LOG.debug("Leaving the native memory pool of a scan open: C++ still holds its memory");
    return null;
  }

  private static void closeQuietly(Exception primary, AutoCloseable... closeables) {
    try {
      AutoCloseables.close(closeables);
    } catch (Exception e) {
      primary.addSuppressed(e);
    }
  }
}
