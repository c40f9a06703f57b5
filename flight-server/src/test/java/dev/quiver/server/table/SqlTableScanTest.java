package dev.quiver.server.table;

import static dev.quiver.proto.v1.Comparison.Op.GE;
import static dev.quiver.proto.v1.Comparison.Op.LT;
import static dev.quiver.server.table.filter.TestPredicates.and;
import static dev.quiver.server.table.filter.TestPredicates.compare;
import static dev.quiver.server.table.filter.TestPredicates.filter;
import static dev.quiver.server.table.filter.TestPredicates.of;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.TableId;
import dev.quiver.server.sql.SqlTableScan;
import dev.quiver.server.table.filter.FilterTranslator;
import dev.quiver.server.table.filter.SqlFilter;
import dev.quiver.server.table.parquet.ArrowSchemas;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.server.table.parquet.WrittenFile;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
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

/** DoGet's scan through DuckDB: exact types, filter, limit, order and memory on failure. */
@ExtendWith(ArrowAllocatorExtension.class)
class SqlTableScanTest {
  @TempDir Path temp;
  private TestSqlEngine sql;

  @BeforeEach
  void openEngine(BufferAllocator allocator) throws Exception {
    sql = new TestSqlEngine(temp, allocator);
  }

  @AfterEach
  void closeEngine() throws Exception {
    sql.close();
  }

  @Test
  void readsEveryTypeBackExactly(BufferAllocator allocator) throws Exception {
    Schema table = AllTypes.schema();
    List<Path> files = write(allocator, table, AllTypes.batch(allocator), "all");

    try (VectorSchemaRoot expected = AllTypes.batch(allocator);
        SqlTableScan scan =
            SqlTableScan.open(sql.engine(), allocator, files, table, null, -1, 1024)) {
      assertThat(scan.next()).isTrue();
      VectorSchemaRoot actual = scan.root();
      assertThat(actual.getSchema()).isEqualTo(table);
      assertThat(actual.getRowCount()).isEqualTo(AllTypes.ROWS);
      for (FieldVector vector : actual.getFieldVectors()) {
        assertThat(VectorEqualsVisitor.vectorEquals(expected.getVector(vector.getName()), vector))
            .as("column %s: %s", vector.getName(), vector)
            .isTrue();
      }
      assertThat(scan.next()).isFalse();
    }
  }

  @Test
  void appliesFilterAndLimitInFileOrder(BufferAllocator allocator) throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    List<Path> files = writeSequence(allocator, schema);
    SqlFilter filter =
        FilterTranslator.translate(
                TableId.of("t", "seq"),
                filter(and(compare("id", GE, of(1000)), compare("id", LT, of(4000)))),
                schema)
            .sql();

    List<Long> ids = new ArrayList<>();
    int batches = 0;
    try (SqlTableScan scan =
        SqlTableScan.open(sql.engine(), allocator, files, schema, filter, 2500, 512)) {
      while (scan.next()) {
        batches++;
        BigIntVector id = (BigIntVector) scan.root().getVector("id");
        for (int i = 0; i < scan.root().getRowCount(); i++) {
          ids.add(id.get(i));
        }
      }
      assertThat(scan.rows()).isEqualTo(2500);
    }
    assertThat(batches).isGreaterThan(1);
    assertThat(ids).hasSize(2500);
    for (int i = 0; i < ids.size(); i++) {
      assertThat(ids.get(i)).isEqualTo(1000L + i);
    }
  }

  @Test
  void batchesMoveWholeIntoTheCallAllocatorAndLeaveNothingBehind(BufferAllocator allocator)
      throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    List<Path> files = writeSequence(allocator, schema);
    // A limit far below one 4096-row batch: the batch is transferred whole (a transfer is never
    // refused, where a refused C Data import would leak), so the call allocator shows it and its
    // owner's check after the batch (MemoryGovernor.checkQueryLimit) is what refuses it.
    try (BufferAllocator call = allocator.newChildAllocator("call", 0, 1024)) {
      try (SqlTableScan scan =
          SqlTableScan.open(sql.engine(), call, files, schema, null, -1, 4096)) {
        assertThat(scan.next()).isTrue();
        assertThat(call.getAllocatedMemory()).isGreaterThan(call.getLimit());
        // What stays in the engine's import allocator is the batch's C struct, not its buffers.
        assertThat(sql.engine().importedBytes()).isLessThanOrEqualTo(1024);
      }
      assertThat(call.getAllocatedMemory()).isZero();
    }
    assertThat(sql.engine().importedBytes()).isZero();
  }

  private List<Path> writeSequence(BufferAllocator allocator, Schema schema) throws Exception {
    try (ArrowReader source = TestReaders.sequence(allocator, 5, 1000)) {
      return write(allocator, schema, source, "seq");
    }
  }

  private List<Path> write(
      BufferAllocator allocator, Schema table, VectorSchemaRoot batch, String dir)
      throws Exception {
    try (batch;
        ArrowReader source = TestReaders.repeating(allocator, batch, 1)) {
      return write(allocator, table, source, dir);
    }
  }

  private List<Path> write(BufferAllocator allocator, Schema table, ArrowReader source, String dir)
      throws Exception {
    try (DuckDbParquetWriter writer =
        new DuckDbParquetWriter(64L * 1024 * 1024, temp.resolve("tmp"))) {
      return writer
          .write(
              source,
              allocator,
              table,
              ArrowSchemas.toIceberg(table),
              temp.resolve(dir),
              ParquetWriteOptions.DEFAULTS)
          .stream()
          .map(WrittenFile::path)
          .toList();
    }
  }
}
