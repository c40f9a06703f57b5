package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compare.VectorEqualsVisitor;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(ArrowAllocatorExtension.class)
class DuckDbParquetWriterTest {
  @TempDir Path temp;
  private DuckDbParquetWriter writer;

  @BeforeEach
  void openWriter() throws Exception {
    writer =
        new DuckDbParquetWriter(
            2, 512L * 1024 * 1024, Files.createDirectories(temp.resolve("spill")));
  }

  @AfterEach
  void closeWriter() {
    writer.close();
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

  /** Scans one Parquet file with arrow-dataset, handing each batch to {@code consumer}. */
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
