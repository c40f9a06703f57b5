package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import dev.quiver.server.memory.AdmissionQueue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.duckdb.DuckDBConnection;

/**
 * Writes Arrow streams into compressed Parquet files with an embedded, in-memory DuckDB.
 *
 * <p>Why DuckDB and not arrow-dataset: arrow-dataset 18.3.0's {@code DatasetFileWriter} writes only
 * uncompressed Parquet with 32K-row row groups and has no options. So Quiver runs {@code COPY
 * (SELECT * FROM <arrow stream>) TO '<file>' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE n,
 * FIELD_IDS {...}, RETURN_STATS true)}: the put stream is exported through the Arrow C Data
 * interface ({@link Data#exportArrayStream}) and registered on a DuckDB connection with {@code
 * registerArrowStream}. DuckDB pulls batches as it writes, so an upload is never held in memory as
 * a whole; it compresses, writes the Iceberg field ids as Parquet field ids, and returns the file's
 * row count, size and column statistics, which become Iceberg metrics. {@code
 * preserve_insertion_order} keeps rows in put order.
 *
 * <p>Files are rolled here, not with DuckDB's {@code FILE_SIZE_BYTES}: with more than one DuckDB
 * thread that option does not keep insertion order (rows end up interleaved across neighbouring
 * files; measured with DuckDB 2.0.0), while a single-file COPY does. So each file is its own COPY
 * over a segment of the stream ({@link WriteAdapter} with a byte budget). The budget, in Arrow
 * bytes, is the target file size scaled by the compression ratio of the files written so far (the
 * first file's budget is the target itself, so the first file comes out smaller than the target).
 * Files end at batch boundaries.
 *
 * <p>DuckDB cannot import float16 and keeps zoned timestamps in microseconds, so the stream is
 * presented through a {@link WriteAdapter} (float16 as float32, timestamp[ns, tz] as timestamp[ns];
 * dictionary strings decoded). {@link ReadConformer} restores the exact types on read.
 *
 * <p>Threading: one writer serves the whole server and is thread-safe. DuckDB runs with {@code
 * threads = 1}, so each {@link #write} executes on its caller's thread, on its own {@code
 * duplicate()} connection: concurrent puts write concurrently, one core each, and share the memory
 * limit. One DuckDB thread per write is deliberate (measured with DuckDB 2.0.0 and an Arrow stream
 * source): with more threads, {@code FILE_SIZE_BYTES} interleaves rows across files and the
 * order-preserving single-file COPY writes one row group per incoming batch, ignoring {@code
 * ROW_GROUP_SIZE}. The source reader is pulled on the calling thread, one batch at a time. Row
 * groups hold at least {@code rowGroupRows} rows, rounded up to whole DuckDB chunks (up to 2,048
 * rows) or incoming batches, cut to what fits a share of the memory limit ({@link #rowGroupRows}):
 * DuckDB holds a whole row group in memory and fails a COPY that outgrows the limit.
 */
public final class DuckDbParquetWriter implements AutoCloseable {
  private static final String FILE_PREFIX = "data-";

  /**
   * The string dictionary page DuckDB may build per column chunk before falling back to plain:
   * Arrow C++'s 1 MiB, not DuckDB 2.0.0's larger default. Columns of a few thousand distinct
   * strings keep their dictionaries; a column of 100,000 distinct names per row group no longer
   * pays a hash lookup and a string compare per value twice (analysis and write).
   */
  static final int STRING_DICTIONARY_PAGE_BYTES = 1 << 20;

  /**
   * The most distinct values DuckDB may dictionary-encode per column chunk of other types (ints,
   * timestamps, decimals) before it writes the chunk plain. DuckDB 2.0.0 analyses every value of a
   * chunk against its default limit: on 10 million mixed rows (an id, a timestamp and a decimal,
   * all high-cardinality) that analysis was 10% of a put's server CPU, for dictionaries it then
   * threw away. With 16,384 the writing thread's CPU for 4 M such rows fell from 1.01-1.09 s to
   * 0.86-0.92 s, for the same file; a column of up to 16,384 distinct values per chunk keeps its
   * dictionary. Not larger: DuckDB reserves the hash table for the limit up front, and 131,072 made
   * a put of 100,000 rows fail under a 16 MB {@code duckdb.memory-limit} (16,384 needs no more than
   * the default: it wrote under 8 MB).
   */
  static final int DICTIONARY_ENTRIES = 16_384;

  /**
   * The share of {@code duckdb.memory-limit} one COPY's row group may take, in Arrow bytes: DuckDB
   * buffers the whole row group in its own format (strings as 16-byte headers plus their bytes) and
   * then builds each column's pages and dictionary beside it, so a row group costs it about three
   * times its Arrow bytes; a quarter leaves room for that and a second COPY's smaller group.
   * docs/architecture.md (Memory, the writer's budget) has the measurements.
   */
  static final int ROW_GROUP_SHARE = 4;

  /**
   * The fewest rows a row group is cut to, whatever the memory: two of DuckDB's 2,048-row chunks
   * per column of a very wide table is about as small as a Parquet row group stays useful.
   */
  static final long MIN_ROW_GROUP_ROWS = 4_096;

  /**
   * The least of duckdb.memory-limit one write gets when the writer has turns: two writes with 4 MB
   * row groups each did not fit 16 MB (DuckDB had 14.3 MB in use when it refused 3.3 MB more), one
   * did.
   */
  static final long MIN_WRITE_MEMORY = 16L << 20;

  /** The most writes that run at once: each runs on one DuckDB thread, on its caller's. */
  static final int MAX_WRITE_SLOTS = 4;

  private final DuckDBConnection database;
  private final long memoryLimitBytes;
  private final UnaryOperator<Path> fileTarget;
  private final AtomicLong streams = new AtomicLong();
  private final WriterTurns turns; // null: writes do not take turns
  private volatile boolean closed;

  /**
   * Opens an in-memory DuckDB database for writing.
   *
   * @param memoryLimitBytes DuckDB's memory limit; past it DuckDB spills to {@code tempDirectory}
   * @param tempDirectory where DuckDB may spill
   */
  public DuckDbParquetWriter(long memoryLimitBytes, Path tempDirectory) {
    this(memoryLimitBytes, tempDirectory, null, UnaryOperator.identity());
  }

  /**
   * A writer whose writes take turns ({@link #writeSlots} at once, each with row groups cut to its
   * share of the limit), waiting for one in {@code line}, the server's admission queue: the
   * server's writer, shared by every put.
   */
  public DuckDbParquetWriter(long memoryLimitBytes, Path tempDirectory, AdmissionQueue line) {
    this(
        memoryLimitBytes,
        tempDirectory,
        requireNonNull(line, "line is null"),
        UnaryOperator.identity());
  }

  /**
   * For fault injection in tests: {@code fileTarget} maps each data file's path to where DuckDB
   * really writes it (say {@code /dev/full}, to see a full disk).
   */
  DuckDbParquetWriter(long memoryLimitBytes, Path tempDirectory, UnaryOperator<Path> fileTarget) {
    this(memoryLimitBytes, tempDirectory, null, fileTarget);
  }

  private DuckDbParquetWriter(
      long memoryLimitBytes,
      Path tempDirectory,
      AdmissionQueue line,
      UnaryOperator<Path> fileTarget) {
    requireNonNull(tempDirectory, "tempDirectory is null");
    this.fileTarget = requireNonNull(fileTarget, "fileTarget is null");
    if (memoryLimitBytes < 1) {
      throw new IllegalArgumentException(
          "memoryLimitBytes must be positive, got " + memoryLimitBytes);
    }
    this.memoryLimitBytes = memoryLimitBytes;
    this.turns =
        line == null ? null : new WriterTurns(writeSlots(memoryLimitBytes), memoryLimitBytes, line);
    try {
      database = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:");
      try (Statement statement = database.createStatement()) {
        statement.execute("SET GLOBAL threads = 1"); // see the class comment
        statement.execute("SET GLOBAL memory_limit = '" + memoryLimitBytes + "B'");
        statement.execute("SET GLOBAL temp_directory = " + sqlString(tempDirectory.toString()));
        statement.execute("SET GLOBAL preserve_insertion_order = true");
        // Column statistics print zoned timestamps in the session zone; ParquetMetrics reads UTC.
        statement.execute("SET GLOBAL TimeZone = 'UTC'");
        // Parquet is built in; never try to download extensions from a server.
        statement.execute("SET GLOBAL autoinstall_known_extensions = false");
      }
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot start DuckDB: %s", e.getMessage());
    }
  }

  /**
   * Writes {@code source} to new Parquet files in {@code directory} and returns one entry per
   * non-empty file, in row order.
   *
   * <p>{@code directory} must not exist or be empty. On any failure, including the source throwing,
   * the files written so far are deleted (and the directory, if this call created it), and the
   * exception is rethrown: the source's own exception when it threw one (a {@link QuiverException}
   * from the source comes out unchanged), else a QuiverException INTERNAL with the DuckDB error as
   * cause. The caller keeps ownership of {@code source} and closes it; this method reads it to the
   * end (or to the failure) and does not close it.
   *
   * @param source the stream, whose schema matches {@code tableArrowSchema} (see {@link
   *     ArrowSchemas#checkAppendCompatible})
   * @param allocator allocates the adapted batches and C Data structures; all freed on return
   * @param tableArrowSchema the table's Arrow schema
   * @param icebergSchema the table's Iceberg schema; its ids become Parquet field ids
   * @param directory where the files go, named data-0.parquet, data-1.parquet, ...
   * @param options codec, row-group size and target file size
   * @throws IOException when the directory cannot be prepared or the source throws one
   * @throws IllegalArgumentException when the directory is not empty or the stream's column names
   *     are not the table's
   */
  public List<WrittenFile> write(
      ArrowReader source,
      BufferAllocator allocator,
      Schema tableArrowSchema,
      org.apache.iceberg.Schema icebergSchema,
      Path directory,
      ParquetWriteOptions options)
      throws IOException {
    requireNonNull(source, "source is null");
    requireNonNull(allocator, "allocator is null");
    requireNonNull(tableArrowSchema, "tableArrowSchema is null");
    requireNonNull(icebergSchema, "icebergSchema is null");
    requireNonNull(directory, "directory is null");
    requireNonNull(options, "options is null");
    if (closed) {
      throw new IllegalStateException("The Parquet writer is closed");
    }
    checkColumnNames(source.getVectorSchemaRoot().getSchema(), tableArrowSchema);
    Path target = directory.toAbsolutePath();
    if (turns == null) {
      return writeFiles(source, allocator, tableArrowSchema, icebergSchema, target, options);
    }
    try (WriterTurns.Turn turn = turns.take("Writing Parquet files to " + target)) {
      return writeFiles(source, allocator, tableArrowSchema, icebergSchema, target, options);
    }
  }

  private List<WrittenFile> writeFiles(
      ArrowReader source,
      BufferAllocator allocator,
      Schema tableArrowSchema,
      org.apache.iceberg.Schema icebergSchema,
      Path target,
      ParquetWriteOptions options)
      throws IOException {
    boolean created = prepareDirectory(target);
    boolean succeeded = false;
    try {
      List<WrittenFile> files = new ArrayList<>();
      if (!source.loadNextBatch()) {
        succeeded = true;
        return List.of();
      }
      // Rows per row group come from the first batch's bytes per row (then from what the files so
      // far held), so that a row group fits the writer's memory whatever the row width.
      long bytesPerRow = bytesPerRow(source.getVectorSchemaRoot());
      boolean preloaded = true;
      long arrowBytes = 0;
      long arrowRows = 0;
      long fileBytes = 0;
      for (int index = 0; ; index++) {
        long budget = segmentBudget(options.targetFileBytes(), arrowBytes, fileBytes);
        WriteAdapter segment =
            new WriteAdapter(allocator, source, tableArrowSchema, budget, preloaded);
        preloaded = false;
        Path file = fileTarget.apply(target.resolve(FILE_PREFIX + index + ".parquet"));
        String view = "quiver_put_" + streams.incrementAndGet();
        long rowsPerGroup =
            rowGroupRows(
                options.rowGroupRows(),
                memoryLimitBytes / (turns == null ? 1 : turns.slots()) / ROW_GROUP_SHARE,
                arrowRows == 0 ? bytesPerRow : Math.max(1, arrowBytes / arrowRows));
        String sql =
            copySql(
                tableArrowSchema,
                icebergSchema,
                file,
                options.withRowGroupRows(rowsPerGroup),
                view);
        WrittenFile written = run(segment, allocator, tableArrowSchema, icebergSchema, view, sql);
        if (written != null) {
          files.add(written);
          arrowBytes += segment.bytes();
          arrowRows += segment.rows();
          fileBytes += written.bytes();
        }
        if (segment.sourceExhausted()) {
          succeeded = true;
          return List.copyOf(files);
        }
      }
    } finally {
      if (!succeeded) {
        deleteQuietly(target, created);
      }
    }
  }

  /**
   * How many writes run at once under {@code memoryLimitBytes}: one per {@link #MIN_WRITE_MEMORY},
   * at least one, at most {@link #MAX_WRITE_SLOTS}.
   */
  public static int writeSlots(long memoryLimitBytes) {
    return (int) Math.max(1, Math.min(MAX_WRITE_SLOTS, memoryLimitBytes / MIN_WRITE_MEMORY));
  }

  /**
   * The rows per row group for a row of {@code bytesPerRow} Arrow bytes: {@code configuredRows}
   * (storage.row-group-rows), cut so that a group's Arrow bytes stay within {@code groupBytes}, and
   * never below {@link #MIN_ROW_GROUP_ROWS}.
   */
  static long rowGroupRows(long configuredRows, long groupBytes, long bytesPerRow) {
    long fitting = groupBytes / Math.max(1, bytesPerRow);
    return Math.min(configuredRows, Math.max(MIN_ROW_GROUP_ROWS, fitting));
  }

  /** The Arrow buffer bytes per row of the batch in {@code root}; at least 1. */
  static long bytesPerRow(VectorSchemaRoot root) {
    long bytes = 0;
    for (FieldVector vector : root.getFieldVectors()) {
      bytes += vector.getBufferSize();
    }
    return Math.max(1, bytes / Math.max(1, root.getRowCount()));
  }

  /**
   * The Arrow bytes to put in the next file: the target scaled by the compression ratio so far, or
   * the target itself before the first file.
   */
  static long segmentBudget(long targetFileBytes, long arrowBytes, long fileBytes) {
    if (fileBytes == 0 || arrowBytes == 0) {
      return targetFileBytes;
    }
    double budget = targetFileBytes * ((double) arrowBytes / fileBytes);
    return Math.max(1, budget >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) budget);
  }

  /** Writes one segment to one file; null when the segment was empty (its file is deleted). */
  private WrittenFile run(
      WriteAdapter segment,
      BufferAllocator allocator,
      Schema tableArrowSchema,
      org.apache.iceberg.Schema icebergSchema,
      String view,
      String sql)
      throws IOException {
    try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
      try {
        // From here the stream owns the segment reader: releasing the stream closes it.
        Data.exportArrayStream(allocator, segment, stream);
      } catch (RuntimeException e) {
        segment.close();
        throw e;
      }
      try (DuckDBConnection connection = database.duplicate()) {
        connection.registerArrowStream(view, stream);
        List<WrittenFile> files;
        try (Statement statement = connection.createStatement();
            ResultSet result = statement.executeQuery(sql)) {
          files = readStats(result, tableArrowSchema, icebergSchema);
        }
        if (segment.failure() != null) {
          // The adapter ended the stream early (see WriteAdapter): the file is partial.
          throw failure(segment, null);
        }
        return files.isEmpty() ? null : files.get(0);
      } catch (SQLException e) {
        throw failure(segment, e);
      }
    }
  }

  private RuntimeException failure(WriteAdapter adapter, SQLException e) throws IOException {
    Throwable cause = adapter.failure();
    if (cause == null && String.valueOf(e.getMessage()).startsWith("Out of Memory Error")) {
      // The writer's memory is shared by every put: too many at once, or too large row groups.
      return new QuiverException(
          QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
          e,
          "Cannot write Parquet files: the writer needs more than duckdb.memory-limit (%s) for"
              + " the puts running now; raise duckdb.memory-limit, lower storage.row-group-rows"
              + " or run fewer puts at once: %s",
          DataSize.format(memoryLimitBytes),
          e.getMessage().lines().findFirst().orElse(""));
    }
    if (cause == null) {
      return new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot write Parquet files: %s", e.getMessage());
    }
    if (e != null) {
      cause.addSuppressed(e);
    }
    if (cause instanceof IOException) {
      throw (IOException) cause;
    }
    if (cause instanceof RuntimeException) {
      return (RuntimeException) cause;
    }
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    return new QuiverException(QuiverErrorCode.INTERNAL, cause, "The put stream failed: %s", cause);
  }

  private static List<WrittenFile> readStats(
      ResultSet result, Schema tableArrowSchema, org.apache.iceberg.Schema icebergSchema)
      throws SQLException, IOException {
    List<WrittenFile> files = new ArrayList<>();
    while (result.next()) {
      Path path = Path.of(result.getString("filename"));
      long rows = result.getLong("count");
      if (rows == 0) {
        // A segment that began where the source ended.
        Files.deleteIfExists(path);
        continue;
      }
      long bytes = result.getLong("file_size_bytes");
      Object statistics = result.getObject("column_statistics");
      files.add(
          new WrittenFile(
              path,
              rows,
              bytes,
              ParquetMetrics.from(rows, (Map<?, ?>) statistics, tableArrowSchema, icebergSchema)));
    }
    return files;
  }

  /** A cheap guard: the adapter pairs columns by position, so their names must line up. */
  private static void checkColumnNames(Schema stream, Schema table) {
    List<String> streamNames = stream.getFields().stream().map(Field::getName).toList();
    List<String> tableNames = table.getFields().stream().map(Field::getName).toList();
    if (!streamNames.equals(tableNames)) {
      throw new IllegalArgumentException(
          "The stream's columns "
              + streamNames
              + " are not the table's "
              + tableNames
              + "; check the stream with ArrowSchemas.checkAppendCompatible first");
    }
  }

  private static boolean prepareDirectory(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      try (Stream<Path> entries = Files.list(directory)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException("Directory " + directory + " is not empty");
        }
      }
      return false;
    }
    Files.createDirectories(directory);
    return true;
  }

  private static void deleteQuietly(Path directory, boolean deleteDirectory) {
    try (Stream<Path> entries = Files.list(directory)) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        Files.deleteIfExists(entry);
      }
      if (deleteDirectory) {
        Files.deleteIfExists(directory);
      }
    } catch (IOException | UncheckedIOException e) {
      // The caller sees the write's own failure; a leftover file in a never-committed directory
      // is an orphan for the janitor, not a second error.
    }
  }

  static String copySql(
      Schema tableArrowSchema,
      org.apache.iceberg.Schema icebergSchema,
      Path file,
      ParquetWriteOptions options,
      String view) {
    StringBuilder sql = new StringBuilder();
    sql.append("COPY (SELECT * FROM \"").append(view).append("\") TO ");
    sql.append(sqlString(file.toString()));
    sql.append(" (FORMAT parquet, COMPRESSION ").append(options.compression().sqlName());
    options.levelToWrite().ifPresent(level -> sql.append(", COMPRESSION_LEVEL ").append(level));
    sql.append(", ROW_GROUP_SIZE ").append(options.rowGroupRows());
    sql.append(", STRING_DICTIONARY_PAGE_SIZE_LIMIT ").append(STRING_DICTIONARY_PAGE_BYTES);
    sql.append(", DICTIONARY_SIZE_LIMIT ").append(DICTIONARY_ENTRIES);
    sql.append(", FIELD_IDS ").append(fieldIds(tableArrowSchema, icebergSchema));
    sql.append(", RETURN_STATS true)");
    return sql.toString();
  }

  /** DuckDB's FIELD_IDS struct for the table, nested fields included. */
  static String fieldIds(Schema tableArrowSchema, org.apache.iceberg.Schema icebergSchema) {
    List<Field> fields = tableArrowSchema.getFields();
    List<Types.NestedField> columns = icebergSchema.columns();
    if (fields.size() != columns.size()) {
      throw new IllegalArgumentException(
          "The Arrow schema has "
              + fields.size()
              + " columns but the Iceberg schema "
              + columns.size());
    }
    StringBuilder out = new StringBuilder("{");
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        out.append(", ");
      }
      out.append(identifier(fields.get(i).getName())).append(": ");
      appendFieldId(out, fields.get(i), columns.get(i).fieldId(), columns.get(i).type());
    }
    return out.append('}').toString();
  }

  private static void appendFieldId(StringBuilder out, Field field, int id, Type type) {
    if (type.isPrimitiveType()) {
      out.append(id);
      return;
    }
    out.append("{__duckdb_field_id: ").append(id);
    if (type.isListType()) {
      Types.ListType list = type.asListType();
      out.append(", element: ");
      appendFieldId(out, field.getChildren().get(0), list.elementId(), list.elementType());
    } else if (type.isMapType()) {
      Types.MapType map = type.asMapType();
      Field entries = field.getChildren().get(0);
      out.append(", key: ");
      appendFieldId(out, entries.getChildren().get(0), map.keyId(), map.keyType());
      out.append(", value: ");
      appendFieldId(out, entries.getChildren().get(1), map.valueId(), map.valueType());
    } else {
      List<Types.NestedField> children = type.asStructType().fields();
      for (int i = 0; i < children.size(); i++) {
        Field child = field.getChildren().get(i);
        out.append(", ").append(identifier(child.getName())).append(": ");
        appendFieldId(out, child, children.get(i).fieldId(), children.get(i).type());
      }
    }
    out.append('}');
  }

  static String identifier(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  static String sqlString(String value) {
    return '\'' + value.replace("'", "''") + '\'';
  }

  /** Closes the database; a second call does nothing. Writes in progress fail. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      database.close();
    } catch (SQLException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot close DuckDB: %s", e.getMessage());
    }
  }
}
