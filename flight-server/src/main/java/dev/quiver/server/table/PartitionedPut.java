package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.server.table.parquet.WrittenFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.StructLike;

/**
 * Writes a put to a partitioned table: one or more Parquet files per partition the rows fall in,
 * each in the folder Iceberg names the partition ({@code ts_day=2026-12-07/id_bucket=3}).
 *
 * <p>How, with bounded memory however many partitions a put touches: each incoming batch is split
 * by partition key (Iceberg's own {@link PartitionKey} and transforms, so bucket hashes are Trino's
 * and Spark's). The rows of the first partition seen stream straight into the ordinary {@link
 * DuckDbParquetWriter} (the source batch itself when all its rows are in that partition, else a
 * copy of them), so a put that falls in one partition (time-ordered data, the usual case) pays only
 * the key per row. Every other partition's rows are appended, as Arrow IPC record batches, to a
 * spill file of that partition under the put's folder. At most {@code maxOpenFiles} spill files are
 * open at once; past that the least recently used is closed and reopened for appending when its
 * partition comes back. Once the stream ends, each spill is written to Parquet by the same writer
 * (one COPY per file, files cut at the target size) and deleted. Memory is one incoming batch plus
 * one partition's slice of it; disk is the spilled rows once more in Arrow IPC form, briefly.
 *
 * <p>Rows keep their put order within each partition.
 */
final class PartitionedPut {
  /** One written file and the partition its rows are in. */
  record PartitionedFile(WrittenFile file, StructLike partition) {
    PartitionedFile {
      requireNonNull(file, "file is null");
      requireNonNull(partition, "partition is null");
    }
  }

  private static final String SPILL_FOLDER = ".spill";
  private static final String STREAM_FOLDER = ".stream";

  private final PartitionSpec spec;
  private final org.apache.iceberg.Schema icebergSchema;
  private final int maxOpenFiles;
  private int openFiles;
  private int peakOpenFiles;

  PartitionedPut(PartitionSpec spec, org.apache.iceberg.Schema icebergSchema, int maxOpenFiles) {
    if (spec.isUnpartitioned()) {
      throw new IllegalArgumentException("The spec is unpartitioned");
    }
    if (maxOpenFiles < 1) {
      throw new IllegalArgumentException("maxOpenFiles must be at least 1: " + maxOpenFiles);
    }
    this.spec = spec;
    this.icebergSchema = icebergSchema;
    this.maxOpenFiles = maxOpenFiles;
  }

  /** The most spill files this put had open at once (for tests of the cap). */
  int peakOpenFiles() {
    return peakOpenFiles;
  }

  /**
   * Writes {@code source} into {@code folder} (which must not exist or be empty), partition by
   * partition. The caller keeps ownership of {@code source}; on failure the caller deletes {@code
   * folder}.
   */
  List<PartitionedFile> write(
      ArrowReader source,
      BufferAllocator allocator,
      Schema tableArrowSchema,
      Path folder,
      DuckDbParquetWriter writer,
      ParquetWriteOptions options)
      throws IOException {
    Path spillFolder = folder.resolve(SPILL_FOLDER);
    Path streamFolder = folder.resolve(STREAM_FOLDER);
    Files.createDirectories(spillFolder);
    List<PartitionedFile> written = new ArrayList<>();
    List<WrittenFile> streamed;
    PartitionKey first;
    List<Spill> spilled;
    // The first partition's rows stream straight into the Parquet writer; the others spill.
    try (Router router = new Router(source, allocator, spillFolder)) {
      streamed =
          writer.write(router, allocator, tableArrowSchema, icebergSchema, streamFolder, options);
      first = router.first;
      spilled = router.inOrder;
    }
    if (streamed.isEmpty()) {
      Files.deleteIfExists(streamFolder);
    } else {
      Path target = folder.resolve(spec.partitionToPath(first));
      Files.createDirectories(target.getParent());
      Files.move(streamFolder, target);
      for (WrittenFile f : streamed) {
        WrittenFile moved =
            new WrittenFile(
                target.resolve(f.path().getFileName()), f.rows(), f.bytes(), f.metrics());
        written.add(new PartitionedFile(moved, first));
      }
    }
    for (Spill s : spilled) {
      Path target = folder.resolve(spec.partitionToPath(s.key));
      try (FileChannel channel = FileChannel.open(s.path, StandardOpenOption.READ);
          ArrowStreamReader reader = new ArrowStreamReader(channel, allocator)) {
        for (WrittenFile file :
            writer.write(reader, allocator, tableArrowSchema, icebergSchema, target, options)) {
          written.add(new PartitionedFile(file, s.key));
        }
      }
      Files.delete(s.path);
    }
    Files.delete(spillFolder);
    return written;
  }

  /**
   * The source as the Parquet writer reads it: only the rows of the first partition seen (the whole
   * source batch when it lies in that partition, else a copy of its rows), every other partition's
   * rows appended to their spills on the way. Closing it ends the spills' streams.
   */
  private final class Router extends ArrowReader {
    private final ArrowReader source;
    private final Path spillFolder;
    private final VectorSchemaRoot slice;
    private final VectorSchemaRoot part;
    private final PartitionKey probe = new PartitionKey(spec, icebergSchema);
    private final Map<PartitionKey, Rows> batch = new HashMap<>();
    private final Map<PartitionKey, Spill> spills = new LinkedHashMap<>(16, 0.75f, true);
    final List<Spill> inOrder = new ArrayList<>();
    private VectorSchemaRoot current;
    PartitionKey first;

    Router(ArrowReader source, BufferAllocator allocator, Path spillFolder) throws IOException {
      super(allocator);
      this.source = source;
      this.spillFolder = spillFolder;
      this.current = source.getVectorSchemaRoot();
      this.slice = VectorSchemaRoot.create(current.getSchema(), allocator);
      this.part = VectorSchemaRoot.create(current.getSchema(), allocator);
    }

    @Override
    public VectorSchemaRoot getVectorSchemaRoot() {
      return current;
    }

    @Override
    public boolean loadNextBatch() throws IOException {
      slice.clear();
      VectorSchemaRoot in = source.getVectorSchemaRoot();
      current = in;
      while (source.loadNextBatch()) {
        int count = in.getRowCount();
        if (count == 0) {
          continue;
        }
        group(in, count);
        Rows mine = null;
        for (Rows rows : batch.values()) {
          if (first == null && rows.indexes[0] == 0) {
            first = rows.key;
          }
        }
        for (Rows rows : batch.values()) {
          if (rows.key.equals(first)) {
            mine = rows;
          } else {
            spill(in, rows, count);
          }
        }
        if (mine == null) {
          continue;
        }
        if (mine.size < count) {
          copy(in, mine, slice);
          current = slice;
        }
        return true;
      }
      return false;
    }

    /** Groups the batch's rows by partition key into {@link #batch}. */
    private void group(VectorSchemaRoot in, int count) {
      ArrowRow row = new ArrowRow(in, icebergSchema);
      batch.clear();
      Rows last = null;
      for (int i = 0; i < count; i++) {
        probe.partition(row.at(i));
        if (last == null || !last.key.equals(probe)) {
          last = batch.get(probe);
          if (last == null) {
            PartitionKey key = probe.copy();
            last = new Rows(key);
            batch.put(key, last);
          }
        }
        last.add(i);
      }
    }

    private void spill(VectorSchemaRoot in, Rows rows, int count) throws IOException {
      Spill target = spills.get(rows.key);
      if (target == null) {
        target =
            new Spill(rows.key, spillFolder.resolve(inOrder.size() + ".arrows"), in.getSchema());
        spills.put(rows.key, target);
        inOrder.add(target);
      }
      target.open(spills, PartitionedPut.this);
      if (rows.size == count) {
        target.append(in);
      } else {
        copy(in, rows, part);
        try {
          target.append(part);
        } finally {
          part.clear();
        }
      }
    }

    @Override
    public long bytesRead() {
      return source.bytesRead();
    }

    @Override
    protected void closeReadSource() throws IOException {
      try {
        for (Spill s : inOrder) {
          s.close();
        }
      } finally {
        slice.close();
        part.close();
      }
    }

    @Override
    protected Schema readSchema() {
      return current.getSchema();
    }
  }

  private static void copy(VectorSchemaRoot from, Rows rows, VectorSchemaRoot into) {
    into.allocateNew();
    List<FieldVector> sources = from.getFieldVectors();
    List<FieldVector> targets = into.getFieldVectors();
    for (int c = 0; c < sources.size(); c++) {
      FieldVector source = sources.get(c);
      FieldVector target = targets.get(c);
      for (int i = 0; i < rows.size; i++) {
        target.copyFromSafe(rows.indexes[i], i, source);
      }
      target.setValueCount(rows.size);
    }
    into.setRowCount(rows.size);
  }

  /** The rows of one batch that fall in one partition. */
  private static final class Rows {
    final PartitionKey key;
    int[] indexes = new int[16];
    int size;

    Rows(PartitionKey key) {
      this.key = key;
    }

    void add(int index) {
      if (size == indexes.length) {
        indexes = java.util.Arrays.copyOf(indexes, size * 2);
      }
      indexes[size++] = index;
    }
  }

  /** One partition's spill file: an Arrow IPC stream appended to across reopenings. */
  private static final class Spill {
    final PartitionKey key;
    final Path path;
    final Schema schema;
    FileChannel channel;
    WriteChannel out;
    boolean started;

    Spill(PartitionKey key, Path path, Schema schema) {
      this.key = key;
      this.path = path;
      this.schema = schema;
    }

    /** Opens the file if closed, first closing the least recently used open spill past the cap. */
    void open(Map<PartitionKey, Spill> spills, PartitionedPut put) throws IOException {
      if (channel != null) {
        return;
      }
      if (put.openFiles >= put.maxOpenFiles) {
        // Access order: the first open spill met is the least recently used.
        for (Spill s : spills.values()) {
          if (s.channel != null && s != this) {
            s.suspend();
            put.openFiles--;
            break;
          }
        }
      }
      channel =
          FileChannel.open(
              path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      out = new WriteChannel(channel);
      put.openFiles++;
      put.peakOpenFiles = Math.max(put.peakOpenFiles, put.openFiles);
      if (!started) {
        MessageSerializer.serialize(out, schema, IpcOption.DEFAULT);
        started = true;
      }
    }

    void append(VectorSchemaRoot rows) throws IOException {
      try (ArrowRecordBatch batch = new VectorUnloader(rows).getRecordBatch()) {
        MessageSerializer.serialize(out, batch, IpcOption.DEFAULT);
      }
    }

    /** Closes the file, to be reopened for appending. */
    void suspend() throws IOException {
      if (channel != null) {
        channel.close();
        channel = null;
        out = null;
      }
    }

    /** Ends the stream and closes the file. */
    void close() throws IOException {
      if (channel == null && started) {
        channel = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        out = new WriteChannel(channel);
      }
      if (channel != null) {
        try {
          ArrowStreamWriter.writeEndOfStream(out, IpcOption.DEFAULT);
        } finally {
          suspend();
        }
      }
    }
  }
}
