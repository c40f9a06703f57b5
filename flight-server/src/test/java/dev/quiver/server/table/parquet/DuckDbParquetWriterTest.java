package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.table.AllTypes;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compare.VectorEqualsVisitor;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith(ArrowAllocatorExtension.class)
class DuckDbParquetWriterTest {
  @TempDir Path temp;
  private DuckDbParquetWriter writer;

  @BeforeEach
  void openWriter() throws Exception {
    writer =
        new DuckDbParquetWriter(512L * 1024 * 1024, Files.createDirectories(temp.resolve("spill")));
  }

  @AfterEach
  void closeWriter() {
    writer.close();
  }

  @Test
  void rowGroupsAreCutToFitTheirShareOfTheWritersMemory() {
    // 4 MB of Arrow bytes for rows of 32 bytes: 131,072 rows, under the configured 1 Mi.
    assertThat(DuckDbParquetWriter.rowGroupRows(1 << 20, 4L << 20, 32)).isEqualTo(131_072);
    // Narrow rows fit the configured size, which stays the cap.
    assertThat(DuckDbParquetWriter.rowGroupRows(1 << 20, 4L << 20, 2)).isEqualTo(1 << 20);
    // Very wide rows still get a useful group.
    assertThat(DuckDbParquetWriter.rowGroupRows(1 << 20, 4L << 20, 1 << 20))
        .isEqualTo(DuckDbParquetWriter.MIN_ROW_GROUP_ROWS);
  }

  @Test
  void theWriterRunsOneWritePerSixteenMegabytesUpToFour() {
    assertThat(DuckDbParquetWriter.writeSlots(16L << 20)).isEqualTo(1);
    assertThat(DuckDbParquetWriter.writeSlots(40L << 20)).isEqualTo(2);
    assertThat(DuckDbParquetWriter.writeSlots(1L << 30)).isEqualTo(4);
  }

  @Test
  void everyTypeRoundTripsExactly(BufferAllocator allocator) throws Exception {
    Schema tableSchema = AllTypes.schema();
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(tableSchema);
    Path directory = temp.resolve("data");
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = AllTypes.batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
      files =
          writer.write(
              source, allocator, tableSchema, iceberg, directory, ParquetWriteOptions.DEFAULTS);
    }
    assertThat(files).hasSize(1);
    assertThat(files.get(0).rows()).isEqualTo(AllTypes.ROWS);

    try (VectorSchemaRoot expected = AllTypes.batch(allocator);
        ReadConformer conformer = new ReadConformer(allocator, tableSchema)) {
      assertThat(conformer.schema()).isEqualTo(tableSchema);
      List<String> checked = new ArrayList<>();
      scan(
          allocator,
          files.get(0).path(),
          tableSchema,
          batch -> {
            VectorSchemaRoot actual = conformer.conform(batch);
            assertThat(actual.getSchema()).isEqualTo(tableSchema);
            assertThat(actual.getRowCount()).isEqualTo(AllTypes.ROWS);
            for (FieldVector vector : expected.getFieldVectors()) {
              FieldVector actualVector = actual.getVector(vector.getName());
              assertThat(VectorEqualsVisitor.vectorEquals(vector, actualVector))
                  .as("column %s: expected %s but got %s", vector.getName(), vector, actualVector)
                  .isTrue();
              checked.add(vector.getName());
            }
            assertThat(actual.equals(expected)).isTrue();
          });
      assertThat(checked).hasSize(tableSchema.getFields().size());
    }
  }

  @Test
  void everyTypeRoundTripsAcrossManyFilesAndBatches(BufferAllocator allocator) throws Exception {
    Schema tableSchema = AllTypes.schema();
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = AllTypes.batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 12)) {
      files =
          writer.write(
              source,
              allocator,
              tableSchema,
              ArrowSchemas.toIceberg(tableSchema),
              temp.resolve("data"),
              ParquetWriteOptions.DEFAULTS.withTargetFileBytes(1));
    }
    assertThat(files).hasSize(12);

    try (VectorSchemaRoot expected = AllTypes.batch(allocator);
        ReadConformer conformer = new ReadConformer(allocator, tableSchema)) {
      int[] batches = {0};
      for (WrittenFile file : files) {
        scan(
            allocator,
            file.path(),
            tableSchema,
            batch -> {
              assertThat(conformer.conform(batch).equals(expected)).isTrue();
              batches[0]++;
            });
      }
      assertThat(batches[0]).isEqualTo(12);
    }
  }

  @Test
  void recordsExactTimestampBounds(BufferAllocator allocator) throws Exception {
    Schema tableSchema = AllTypes.schema();
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(tableSchema);
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = AllTypes.batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
      files =
          writer.write(
              source,
              allocator,
              tableSchema,
              iceberg,
              temp.resolve("data"),
              ParquetWriteOptions.DEFAULTS);
      Metrics metrics = files.get(0).metrics();
      int checked = 0;
      for (FieldVector vector : batch.getFieldVectors()) {
        if (!(vector.getField().getType() instanceof ArrowType.Timestamp)) {
          continue;
        }
        ArrowType.Timestamp type = (ArrowType.Timestamp) vector.getField().getType();
        long scale =
            switch (type.getUnit()) {
              case SECOND -> 1_000_000L;
              case MILLISECOND -> 1_000L;
              default -> 1L; // micros stay micros; nanos are Iceberg timestamp_ns
            };
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < batch.getRowCount(); i++) {
          if (!vector.isNull(i)) {
            long value = ((org.apache.arrow.vector.TimeStampVector) vector).get(i) * scale;
            min = Math.min(min, value);
            max = Math.max(max, value);
          }
        }
        int id = iceberg.findField(vector.getName()).fieldId();
        assertThat(this.<Long>bound(iceberg, id, metrics.lowerBounds()))
            .as(vector.getName())
            .isEqualTo(min);
        assertThat(this.<Long>bound(iceberg, id, metrics.upperBounds()))
            .as(vector.getName())
            .isEqualTo(max);
        checked++;
      }
      assertThat(checked).isEqualTo(8);
      // No bounds where Quiver cannot be sure: floats, binary, uint64, time.
      for (String column : List.of("f32", "f64", "bin", "u64", "t64us")) {
        assertThat(metrics.lowerBounds()).doesNotContainKey(iceberg.findField(column).fieldId());
      }
    }
  }

  @Test
  void writesZstdWithTheRequestedRowGroupSize(BufferAllocator allocator) throws Exception {
    List<WrittenFile> files =
        writeSequence(allocator, 10, 1000, ParquetWriteOptions.DEFAULTS.withRowGroupRows(2000));

    assertThat(files).hasSize(1);
    Path file = files.get(0).path();
    assertThat(query("SELECT DISTINCT compression FROM parquet_metadata(?)", file))
        .containsExactly(List.of("ZSTD"));
    assertThat(
            query(
                "SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(?) ORDER BY 1",
                file))
        .containsExactly(
            List.of("0", "2000"),
            List.of("1", "2000"),
            List.of("2", "2000"),
            List.of("3", "2000"),
            List.of("4", "2000"));
  }

  @Test
  void givesUpDictionariesPastArrowsOneMebibytePageAndSixteenThousandValues(
      BufferAllocator allocator) throws Exception {
    // One row group of 1,050,000 rows (a 150,000-row batch served 7 times): "name" has 65,536
    // distinct 15-byte strings (a 1.2 MB dictionary page); DuckDB 2.0.0's default dictionary-
    // encodes it, Quiver's limit (Arrow C++'s 1 MiB page) writes it plain. "medium" has 20,000
    // distinct longs, past Quiver's 16,384 (DuckDB's default encodes it). "narrow" (1,000
    // distinct values) keeps its dictionary.
    int rows = 150_000;
    Schema schema =
        new Schema(
            List.of(
                Field.notNullable("wide", new ArrowType.Int(64, true)),
                Field.nullable("name", ArrowType.Utf8.INSTANCE),
                Field.notNullable("narrow", new ArrowType.Int(64, true)),
                Field.notNullable("medium", new ArrowType.Int(64, true))));
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(schema, allocator)) {
      BigIntVector wide = (BigIntVector) batch.getVector(0);
      VarCharVector name = (VarCharVector) batch.getVector(1);
      BigIntVector narrow = (BigIntVector) batch.getVector(2);
      BigIntVector medium = (BigIntVector) batch.getVector(3);
      for (int i = 0; i < rows; i++) {
        wide.setSafe(i, i);
        name.setSafe(i, ("customer-" + (100_000 + i % 65_536)).getBytes(StandardCharsets.UTF_8));
        narrow.setSafe(i, i % 1000);
        medium.setSafe(i, i % 20_000);
      }
      batch.setRowCount(rows);
      try (ArrowReader source = TestReaders.repeating(allocator, batch, 7)) {
        files =
            write(
                source,
                allocator,
                schema,
                "dictionaries",
                ParquetWriteOptions.DEFAULTS.withRowGroupRows(7 * rows));
      }
    }

    Map<String, String> encodings = new java.util.HashMap<>();
    for (List<String> row :
        query("SELECT path_in_schema, encodings FROM parquet_metadata(?)", files.get(0).path())) {
      encodings.put(row.get(0), row.get(1));
    }
    assertThat(encodings).hasSize(4);
    assertThat(encodings.get("name")).doesNotContain("DICTIONARY");
    assertThat(encodings.get("medium")).doesNotContain("DICTIONARY");
    assertThat(encodings.get("narrow")).contains("DICTIONARY");
    assertThat(files.get(0).rows()).isEqualTo(7L * rows);
  }

  @ParameterizedTest
  @EnumSource(ParquetWriteOptions.Compression.class)
  void writesEveryCodecThatArrowReads(
      ParquetWriteOptions.Compression codec, BufferAllocator allocator) throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    List<WrittenFile> files;
    try (ArrowReader source = TestReaders.sequence(allocator, 2, 500)) {
      files =
          write(
              source,
              allocator,
              schema,
              codec.name(),
              ParquetWriteOptions.DEFAULTS.withCompression(codec));
    }

    String expected = codec == ParquetWriteOptions.Compression.LZ4 ? "LZ4_RAW" : codec.name();
    assertThat(query("SELECT DISTINCT compression FROM parquet_metadata(?)", files.get(0).path()))
        .containsExactly(List.of(expected));
    long[] rows = {0};
    scan(allocator, files.get(0).path(), schema, batch -> rows[0] += batch.getRowCount());
    assertThat(rows[0]).isEqualTo(1000);
  }

  @Test
  void writesIcebergFieldIdsForEveryField(BufferAllocator allocator) throws Exception {
    Schema tableSchema = AllTypes.schema();
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(tableSchema);
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = AllTypes.batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
      files =
          writer.write(
              source,
              allocator,
              tableSchema,
              iceberg,
              temp.resolve("data"),
              ParquetWriteOptions.DEFAULTS);
    }

    List<List<String>> schema =
        query(
            "SELECT name, field_id FROM parquet_schema(?) WHERE field_id IS NOT NULL",
            files.get(0).path());
    Set<String> written = schema.stream().map(row -> row.get(1)).collect(Collectors.toSet());
    Set<String> expected =
        TypeUtil.indexById(iceberg.asStruct()).keySet().stream()
            .map(String::valueOf)
            .collect(Collectors.toSet());
    assertThat(written).isEqualTo(expected).hasSize(schema.size());
    for (Types.NestedField column : iceberg.columns()) {
      assertThat(schema).contains(List.of(column.name(), String.valueOf(column.fieldId())));
    }
    Types.StructType struct = iceberg.findField("st").type().asStructType();
    assertThat(schema).contains(List.of("x", String.valueOf(struct.field("x").fieldId())));
  }

  @Test
  void rollsToSeveralFilesWithCountsAndExactBounds(BufferAllocator allocator) throws Exception {
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(TestReaders.sequenceSchema());
    List<WrittenFile> files =
        writeSequence(
            allocator,
            40,
            1000,
            ParquetWriteOptions.DEFAULTS.withRowGroupRows(1000).withTargetFileBytes(20_000));

    assertThat(files).hasSizeGreaterThan(2);
    assertThat(files.stream().mapToLong(WrittenFile::rows).sum()).isEqualTo(40_000);
    try (Stream<Path> entries = Files.list(temp.resolve("data"))) {
      assertThat(entries.count()).isEqualTo(files.size());
    }
    int idId = iceberg.findField("id").fieldId();
    int nameId = iceberg.findField("name").fieldId();
    int amountId = iceberg.findField("amount").fieldId();
    int dayId = iceberg.findField("day").fieldId();
    long previousMax = -1;
    for (WrittenFile file : files) {
      List<String> actual =
          query(
                  "SELECT count(*), min(id), max(id), count(*) - count(name), min(name), max(name),"
                      + " min(amount), max(amount), min(day), max(day) FROM read_parquet(?)",
                  file.path())
              .get(0);
      Metrics metrics = file.metrics();
      // Rows keep put order within the file, whatever DuckDB's thread count.
      assertThat(
              query(
                  "SELECT count(*) FROM read_parquet($1, file_row_number = true)"
                      + " WHERE id <> file_row_number + (SELECT min(id) FROM read_parquet($1))",
                  file.path()))
          .containsExactly(List.of("0"));
      assertThat(file.rows()).isEqualTo(Long.parseLong(actual.get(0)));
      assertThat(file.bytes()).isEqualTo(Files.size(file.path()));
      assertThat(metrics.recordCount()).isEqualTo(file.rows());
      assertThat(metrics.valueCounts())
          .containsEntry(idId, file.rows())
          .containsEntry(nameId, file.rows());
      assertThat(metrics.nullValueCounts())
          .containsEntry(idId, 0L)
          .containsEntry(nameId, Long.parseLong(actual.get(3)));
      assertThat(metrics.columnSizes()).containsKey(idId);
      long min = bound(iceberg, idId, metrics.lowerBounds());
      assertThat(min).isEqualTo(Long.parseLong(actual.get(1))).isEqualTo(previousMax + 1);
      previousMax = bound(iceberg, idId, metrics.upperBounds());
      assertThat(previousMax).isEqualTo(Long.parseLong(actual.get(2)));
      assertThat(this.<CharSequence>bound(iceberg, nameId, metrics.lowerBounds()).toString())
          .isEqualTo(actual.get(4));
      assertThat(this.<CharSequence>bound(iceberg, nameId, metrics.upperBounds()).toString())
          .isEqualTo(actual.get(5));
      assertThat(this.<BigDecimal>bound(iceberg, amountId, metrics.lowerBounds()))
          .isEqualTo(new BigDecimal(actual.get(6)));
      assertThat(this.<BigDecimal>bound(iceberg, amountId, metrics.upperBounds()))
          .isEqualTo(new BigDecimal(actual.get(7)));
      assertThat(this.<Integer>bound(iceberg, dayId, metrics.lowerBounds()))
          .isEqualTo((int) LocalDate.parse(actual.get(8)).toEpochDay());
      assertThat(this.<Integer>bound(iceberg, dayId, metrics.upperBounds()))
          .isEqualTo((int) LocalDate.parse(actual.get(9)).toEpochDay());
    }
    assertThat(previousMax).isEqualTo(39_999);
  }

  @Test
  void failingSourceLeavesNoFilesAndSurfacesItsException(BufferAllocator allocator)
      throws Exception {
    QuiverException cancelled =
        new QuiverException(QuiverErrorCode.CANCELLED, "Client cancelled the put to sales.orders");
    Path directory = temp.resolve("data");
    try (ArrowReader source = failAfter(allocator, 3, cancelled)) {
      Schema schema = TestReaders.sequenceSchema();
      assertThatThrownBy(
              () ->
                  writer.write(
                      source,
                      allocator,
                      schema,
                      ArrowSchemas.toIceberg(schema),
                      directory,
                      ParquetWriteOptions.DEFAULTS.withRowGroupRows(100).withTargetFileBytes(1)))
          .isSameAs(cancelled)
          .hasMessage("Client cancelled the put to sales.orders")
          .extracting(e -> ((QuiverException) e).code())
          .isEqualTo(QuiverErrorCode.CANCELLED);
    }
    assertThat(directory).doesNotExist();
  }

  @Test
  void failingSourceKeepsAnEmptyDirectoryItWasGiven(BufferAllocator allocator) throws Exception {
    IllegalStateException broken = new IllegalStateException("Stream broke");
    Path directory = Files.createDirectories(temp.resolve("data"));
    try (ArrowReader source = failAfter(allocator, 5, broken)) {
      Schema schema = TestReaders.sequenceSchema();
      assertThatThrownBy(
              () ->
                  writer.write(
                      source,
                      allocator,
                      schema,
                      ArrowSchemas.toIceberg(schema),
                      directory,
                      ParquetWriteOptions.DEFAULTS.withRowGroupRows(100).withTargetFileBytes(1)))
          .isSameAs(broken)
          .hasMessage("Stream broke");
    }
    try (Stream<Path> entries = Files.list(directory)) {
      assertThat(entries).isEmpty();
    }
  }

  @Test
  void refusesADirectoryThatIsNotEmpty(BufferAllocator allocator) throws Exception {
    Path directory = Files.createDirectories(temp.resolve("data"));
    Files.writeString(directory.resolve("other.parquet"), "x");
    try (ArrowReader source = TestReaders.sequence(allocator, 1, 10)) {
      Schema schema = TestReaders.sequenceSchema();
      assertThatThrownBy(
              () ->
                  writer.write(
                      source,
                      allocator,
                      schema,
                      ArrowSchemas.toIceberg(schema),
                      directory,
                      ParquetWriteOptions.DEFAULTS))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Directory " + directory + " is not empty");
    }
    assertThat(directory.resolve("other.parquet")).hasContent("x");
  }

  @Test
  void refusesToWriteOnceClosedAndClosesTwiceQuietly(BufferAllocator allocator) throws Exception {
    writer.close();
    writer.close();

    try (ArrowReader source = TestReaders.sequence(allocator, 1, 10)) {
      Schema schema = TestReaders.sequenceSchema();
      assertThatThrownBy(
              () ->
                  writer.write(
                      source,
                      allocator,
                      schema,
                      ArrowSchemas.toIceberg(schema),
                      temp.resolve("data"),
                      ParquetWriteOptions.DEFAULTS))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("The Parquet writer is closed");
    }
  }

  @Test
  void refusesAStreamWhoseColumnsAreNotTheTables(BufferAllocator allocator) throws Exception {
    Schema table = new Schema(List.of(TestReaders.sequenceSchema().getFields().get(0)));
    try (ArrowReader source = TestReaders.sequence(allocator, 1, 10)) {
      assertThatThrownBy(
              () ->
                  writer.write(
                      source,
                      allocator,
                      table,
                      ArrowSchemas.toIceberg(table),
                      temp.resolve("data"),
                      ParquetWriteOptions.DEFAULTS))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "The stream's columns [id, name, amount, day, flag] are not the table's [id]; check"
                  + " the stream with ArrowSchemas.checkAppendCompatible first");
    }
    assertThat(temp.resolve("data")).doesNotExist();
  }

  @Test
  void anEmptyStreamWritesNoFiles(BufferAllocator allocator) throws Exception {
    assertThat(writeSequence(allocator, 0, 10, ParquetWriteOptions.DEFAULTS)).isEmpty();
  }

  @Test
  void concurrentWritesEachGetTheirOwnFiles(BufferAllocator allocator) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<List<WrittenFile>>> futures = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Path directory = temp.resolve("data" + i);
        futures.add(
            pool.submit(
                () -> {
                  try (BufferAllocator child =
                          allocator.newChildAllocator("write", 0, Long.MAX_VALUE);
                      ArrowReader source = TestReaders.sequence(child, 20, 1000)) {
                    Schema schema = TestReaders.sequenceSchema();
                    return writer.write(
                        source,
                        child,
                        schema,
                        ArrowSchemas.toIceberg(schema),
                        directory,
                        ParquetWriteOptions.DEFAULTS);
                  }
                }));
      }
      for (int i = 0; i < 2; i++) {
        List<WrittenFile> files = futures.get(i).get(60, TimeUnit.SECONDS);
        assertThat(files).singleElement().extracting(WrittenFile::rows).isEqualTo(20_000L);
        assertThat(files.get(0).path().getParent()).isEqualTo(temp.resolve("data" + i));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private ArrowReader failAfter(BufferAllocator allocator, int batches, RuntimeException error) {
    ArrowReader sequence = TestReaders.sequence(allocator, Integer.MAX_VALUE, 100);
    return new ArrowReader(allocator) {
      private int served;

      @Override
      public boolean loadNextBatch() throws java.io.IOException {
        if (served++ == batches) {
          throw error;
        }
        return sequence.loadNextBatch();
      }

      @Override
      public VectorSchemaRoot getVectorSchemaRoot() throws java.io.IOException {
        return sequence.getVectorSchemaRoot();
      }

      @Override
      public long bytesRead() {
        return 0;
      }

      @Override
      protected void closeReadSource() throws java.io.IOException {
        sequence.close();
      }

      @Override
      protected Schema readSchema() {
        return TestReaders.sequenceSchema();
      }
    };
  }

  /** Writes {@code source} to the folder {@code directory} under the test's temporary folder. */
  private List<WrittenFile> write(
      ArrowReader source,
      BufferAllocator allocator,
      Schema schema,
      String directory,
      ParquetWriteOptions options)
      throws Exception {
    return writer.write(
        source,
        allocator,
        schema,
        ArrowSchemas.toIceberg(schema),
        temp.resolve(directory),
        options);
  }

  private List<WrittenFile> writeSequence(
      BufferAllocator allocator, int batches, int rows, ParquetWriteOptions options)
      throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    try (ArrowReader source = TestReaders.sequence(allocator, batches, rows)) {
      return writer.write(
          source, allocator, schema, ArrowSchemas.toIceberg(schema), temp.resolve("data"), options);
    }
  }

  @SuppressWarnings("unchecked")
  private <T> T bound(org.apache.iceberg.Schema iceberg, int id, Map<Integer, ByteBuffer> bounds) {
    assertThat(bounds).containsKey(id);
    return (T) Conversions.fromByteBuffer(iceberg.findType(id), bounds.get(id));
  }

  /** The rows of a DuckDB query with one parameter, a file path, every value as text. */
  static List<List<String>> query(String sql, Path file) throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        java.sql.PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, file.toString());
      try (ResultSet result = statement.executeQuery()) {
        List<List<String>> rows = new ArrayList<>();
        int columns = result.getMetaData().getColumnCount();
        while (result.next()) {
          List<String> row = new ArrayList<>();
          for (int i = 1; i <= columns; i++) {
            row.add(result.getString(i));
          }
          rows.add(row);
        }
        return rows;
      }
    }
  }

  /** Scans one Parquet file with arrow-dataset, handing each batch to {@code consumer}. */
  @SuppressWarnings("try") // Dataset and Scanner declare close() throws Exception
  static void scan(
      BufferAllocator allocator,
      Path file,
      Schema projection,
      java.util.function.Consumer<VectorSchemaRoot> consumer)
      throws Exception {
    String[] columns = projection.getFields().stream().map(f -> f.getName()).toArray(String[]::new);
    try (FileSystemDatasetFactory factory =
            new FileSystemDatasetFactory(
                allocator,
                NativeMemoryPool.getDefault(),
                FileFormat.PARQUET,
                file.toUri().toString());
        Dataset dataset = factory.finish();
        Scanner scanner =
            dataset.newScan(new ScanOptions.Builder(1024).columns(Optional.of(columns)).build());
        ArrowReader reader = scanner.scanBatches()) {
      while (reader.loadNextBatch()) {
        consumer.accept(reader.getVectorSchemaRoot());
      }
    }
  }
}
