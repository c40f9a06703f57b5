package dev.quiver.server.table.parquet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.table.AllTypes;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.compare.VectorEqualsVisitor;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowDictionaryBatch;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(ArrowAllocatorExtension.class)
class ReadConformerTest {
  @TempDir Path temp;
  private DuckDbParquetWriter writer;

  @BeforeEach
  void openWriter() throws IOException {
    writer =
        new DuckDbParquetWriter(256L * 1024 * 1024, Files.createDirectories(temp.resolve("spill")));
  }

  @AfterEach
  void closeWriter() {
    writer.close();
  }

  @Test
  void conformsAProjectionInItsOwnOrder(BufferAllocator allocator) throws Exception {
    Schema table = AllTypes.schema();
    Path file = writeAllTypes(allocator, table);
    Schema projection =
        new Schema(
            List.of(
                table.findField("st"),
                table.findField("f16"),
                table.findField("tstz_ns"),
                table.findField("id")));

    try (VectorSchemaRoot expected = AllTypes.batch(allocator);
        ReadConformer conformer = new ReadConformer(allocator, projection)) {
      List<Integer> rows = new ArrayList<>();
      DuckDbParquetWriterTest.scan(
          allocator,
          file,
          projection,
          batch -> {
            VectorSchemaRoot actual = conformer.conform(batch);
            assertThat(actual.getSchema()).isEqualTo(projection);
            for (FieldVector vector : actual.getFieldVectors()) {
              assertThat(
                      VectorEqualsVisitor.vectorEquals(
                          expected.getVector(vector.getName()), vector))
                  .as("column %s", vector.getName())
                  .isTrue();
            }
            rows.add(actual.getRowCount());
          });
      assertThat(rows).containsExactly(AllTypes.ROWS);
    }
  }

  @Test
  void reusesItsRootAcrossBatches(BufferAllocator allocator) throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    List<WrittenFile> files;
    try (ArrowReader source = TestReaders.sequence(allocator, 5, 1000)) {
      files =
          writer.write(
              source,
              allocator,
              schema,
              ArrowSchemas.toIceberg(schema),
              temp.resolve("data"),
              ParquetWriteOptions.DEFAULTS);
    }
    try (ReadConformer conformer = new ReadConformer(allocator, schema)) {
      List<VectorSchemaRoot> roots = new ArrayList<>();
      long[] next = {0};
      DuckDbParquetWriterTest.scan(
          allocator,
          files.get(0).path(),
          schema,
          batch -> {
            VectorSchemaRoot actual = conformer.conform(batch);
            roots.add(actual);
            BigIntVector id = (BigIntVector) actual.getVector("id");
            for (int i = 0; i < actual.getRowCount(); i++) {
              assertThat(id.get(i)).isEqualTo(next[0]++);
            }
          });
      assertThat(next[0]).isEqualTo(5000);
      assertThat(roots).hasSizeGreaterThan(1).allMatch(root -> root == roots.get(0));
    }
  }

  @Test
  void readsDictionaryEncodedStringsAsPlainStrings(BufferAllocator allocator) throws Exception {
    DictionaryEncoding encoding = new DictionaryEncoding(7, false, new ArrowType.Int(32, true));
    Schema table =
        new Schema(
            List.of(
                new Field("colour", new FieldType(true, ArrowType.Utf8.INSTANCE, encoding), null),
                Field.nullable("n", new ArrowType.Int(32, true))));
    List<WrittenFile> files;
    try (ArrowReader source = new DictionaryReader(allocator, table)) {
      files =
          writer.write(
              source,
              allocator,
              table,
              ArrowSchemas.toIceberg(table),
              temp.resolve("data"),
              ParquetWriteOptions.DEFAULTS);
    }

    Schema plain = ReadConformer.readSchema(table);
    assertThat(plain.findField("colour").getDictionary()).isNull();
    assertThat(plain.findField("colour").getType()).isEqualTo(ArrowType.Utf8.INSTANCE);
    try (ReadConformer conformer = new ReadConformer(allocator, table)) {
      List<String> colours = new ArrayList<>();
      DuckDbParquetWriterTest.scan(
          allocator,
          files.get(0).path(),
          table,
          batch -> {
            VectorSchemaRoot actual = conformer.conform(batch);
            assertThat(actual.getSchema()).isEqualTo(plain);
            VarCharVector colour = (VarCharVector) actual.getVector("colour");
            for (int i = 0; i < actual.getRowCount(); i++) {
              colours.add(colour.isNull(i) ? null : new String(colour.get(i), UTF_8));
            }
          });
      assertThat(colours).containsExactly("red", "green", null, "red", "blue");
    }
  }

  @Test
  void restoresDictionaryEncodingWithStreamWideDictionaries(BufferAllocator allocator)
      throws Exception {
    Schema table = dictionaryTable();
    try (ArrowReader source = new DictionaryReader(allocator, table);
        ReadDictionaries dictionaries = new ReadDictionaries(allocator, table)) {
      Path file =
          writer
              .write(
                  source,
                  allocator,
                  table,
                  ArrowSchemas.toIceberg(table),
                  temp.resolve("data"),
                  ParquetWriteOptions.DEFAULTS)
              .get(0)
              .path();
      assertThat(dictionaries.columns()).containsExactly("colour");
      Schema firstPass = new Schema(List.of(table.findField("colour")));
      DuckDbParquetWriterTest.scan(allocator, file, firstPass, dictionaries::collect);
      dictionaries.finish();

      assertThat(dictionaries.getDictionaryIds()).containsExactly(7L);
      assertThat(
              VectorEqualsVisitor.vectorEquals(
                  dictionaries.lookup(7).getVector(), source.lookup(7).getVector()))
          .isTrue();
      VectorSchemaRoot original = source.getVectorSchemaRoot();
      try (ReadConformer conformer = new ReadConformer(allocator, table, dictionaries)) {
        assertThat(conformer.schema()).isEqualTo(original.getSchema());
        List<Integer> rows = new ArrayList<>();
        DuckDbParquetWriterTest.scan(
            allocator,
            file,
            table,
            batch -> {
              VectorSchemaRoot actual = conformer.conform(batch);
              assertThat(actual.equals(original)).isTrue();
              rows.add(actual.getRowCount());
            });
        assertThat(rows).containsExactly(5);
      }
    }
  }

  private static Schema dictionaryTable() {
    DictionaryEncoding encoding = new DictionaryEncoding(7, false, new ArrowType.Int(32, true));
    return new Schema(
        List.of(
            new Field("colour", new FieldType(true, ArrowType.Utf8.INSTANCE, encoding), null),
            Field.nullable("n", new ArrowType.Int(32, true))));
  }

  @Test
  void columnNamesNeedNoQuoting(BufferAllocator allocator) throws Exception {
    Schema table =
        new Schema(
            List.of(
                Field.nullable("with space", new ArrowType.Int(64, true)),
                Field.nullable("q\"uote's", new ArrowType.Int(64, true)),
                AllTypes.field(
                    "Mixed",
                    ArrowType.Struct.INSTANCE,
                    Field.nullable("a.b", new ArrowType.Int(64, true)))));
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(table);
    List<WrittenFile> files;
    try (VectorSchemaRoot batch = VectorSchemaRoot.create(table, allocator)) {
      batch.allocateNew();
      ((BigIntVector) batch.getVector(0)).setSafe(0, 5);
      ((BigIntVector) batch.getVector(1)).setSafe(0, 6);
      FieldVector struct = batch.getVector(2);
      ((BigIntVector) struct.getChildrenFromFields().get(0)).setSafe(0, 7);
      ((org.apache.arrow.vector.complex.StructVector) struct).setIndexDefined(0);
      struct.getChildrenFromFields().get(0).setValueCount(1);
      batch.setRowCount(1);
      try (ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
        files =
            writer.write(
                source,
                allocator,
                table,
                iceberg,
                temp.resolve("data"),
                ParquetWriteOptions.DEFAULTS);
      }
      List<List<String>> ids =
          DuckDbParquetWriterTest.query(
              "SELECT name, field_id FROM parquet_schema(?) WHERE field_id IS NOT NULL",
              files.get(0).path());
      assertThat(ids)
          .containsExactly(
              List.of("with space", "1"),
              List.of("q\"uote's", "2"),
              List.of("Mixed", "3"),
              List.of("a.b", "4"));
      assertThat(files.get(0).metrics().valueCounts())
          .containsEntry(1, 1L)
          .containsEntry(2, 1L)
          .containsEntry(4, 1L);
      assertThat(files.get(0).metrics().lowerBounds()).containsKeys(1, 2);
      try (ReadConformer conformer = new ReadConformer(allocator, table)) {
        DuckDbParquetWriterTest.scan(
            allocator,
            files.get(0).path(),
            table,
            scanned -> assertThat(conformer.conform(scanned).equals(batch)).isTrue());
      }
    }
  }

  private Path writeAllTypes(BufferAllocator allocator, Schema table) throws IOException {
    try (VectorSchemaRoot batch = AllTypes.batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
      return writer
          .write(
              source,
              allocator,
              table,
              ArrowSchemas.toIceberg(table),
              temp.resolve("all"),
              ParquetWriteOptions.DEFAULTS)
          .get(0)
          .path();
    }
  }

  /** One batch with a dictionary-encoded colour column, as a Flight stream presents it. */
  private static final class DictionaryReader extends ArrowReader {
    private final Schema schema;
    private boolean served;

    DictionaryReader(BufferAllocator allocator, Schema schema) {
      super(allocator);
      this.schema = schema;
    }

    @Override
    public boolean loadNextBatch() throws IOException {
      if (served) {
        return false;
      }
      served = true;
      VectorSchemaRoot root = getVectorSchemaRoot();
      try (VarCharVector values = new VarCharVector("colour", allocator)) {
        values.allocateNew();
        values.setSafe(0, "red".getBytes(UTF_8));
        values.setSafe(1, "green".getBytes(UTF_8));
        values.setSafe(2, "blue".getBytes(UTF_8));
        values.setValueCount(3);
        try (VectorSchemaRoot dictionary = VectorSchemaRoot.of(values)) {
          loadDictionary(
              new ArrowDictionaryBatch(7, new VectorUnloader(dictionary).getRecordBatch(), false));
        }
      }
      root.allocateNew();
      IntVector indices = (IntVector) root.getVector("colour");
      IntVector n = (IntVector) root.getVector("n");
      int[] codes = {0, 1, -1, 0, 2};
      for (int i = 0; i < codes.length; i++) {
        if (codes[i] < 0) {
          indices.setNull(i);
        } else {
          indices.setSafe(i, codes[i]);
        }
        n.setSafe(i, i);
      }
      root.setRowCount(codes.length);
      return true;
    }

    @Override
    public long bytesRead() {
      return 0;
    }

    @Override
    protected void closeReadSource() {}

    @Override
    protected Schema readSchema() {
      return schema;
    }
  }
}
