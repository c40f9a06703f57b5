package dev.quiver.server.table.parquet;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.io.IOException;
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
import org.apache.arrow.vector.ipc.ArrowReader;

/**
 * An arrow-dataset scan of some Parquet files: the factory, dataset, scanner and reader that
 * arrow-dataset needs kept open together, closed together.
 *
 * <p>Batches come out in file order, then row order, as arrow-dataset's reader yields them. Not
 * thread-safe. The reader's batches are allocated from the given allocator.
 */
final class ParquetFiles implements AutoCloseable {
  private final FileSystemDatasetFactory factory;
  private final Dataset dataset;
  private final Scanner scanner;
  private final ArrowReader reader;

  private ParquetFiles(
      FileSystemDatasetFactory factory, Dataset dataset, Scanner scanner, ArrowReader reader) {
    this.factory = factory;
    this.dataset = dataset;
    this.scanner = scanner;
    this.reader = reader;
  }

  /**
   * Opens a scan of {@code files} (file URIs) returning {@code columns}, keeping rows that match
   * {@code filter} (a direct buffer holding a Substrait ExtendedExpression, or null). The scan's
   * C++ memory comes from {@code pool}, which the caller closes after this scan and after every
   * batch buffer taken from it.
   */
  static ParquetFiles open(
      BufferAllocator allocator,
      NativeMemoryPool pool,
      List<String> files,
      List<String> columns,
      ByteBuffer filter,
      int batchRows) {
    ScanOptions.Builder options =
        new ScanOptions.Builder(batchRows).columns(Optional.of(columns.toArray(String[]::new)));
    if (filter != null) {
      options.substraitFilter(filter);
    }
    FileSystemDatasetFactory factory = null;
    Dataset dataset = null;
    Scanner scanner = null;
    try {
      factory =
          new FileSystemDatasetFactory(
              allocator, pool, FileFormat.PARQUET, files.toArray(String[]::new));
      dataset = factory.finish();
      scanner = newScan(dataset, options, filter != null);
      return new ParquetFiles(factory, dataset, scanner, scanner.scanBatches());
    } catch (RuntimeException e) {
      try {
        AutoCloseables.close(scanner, dataset, factory);
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static Scanner newScan(Dataset dataset, ScanOptions.Builder options, boolean filtered) {
    try {
      return dataset.newScan(options.build());
    } catch (RuntimeException e) {
      if (!filtered) {
        throw e;
      }
      // Binding happens here: a client's raw Substrait filter that parsed but names functions or
      // types Arrow cannot bind to these files is the client's error, not the server's.
      throw new QuiverException(
          QuiverErrorCode.INVALID_FILTER, e, "The filter cannot be applied: %s", e.getMessage());
    }
  }

  ArrowReader reader() {
    return reader;
  }

  @Override
  public void close() throws IOException {
    try {
      AutoCloseables.close(reader, scanner, dataset, factory);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }
}
