package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's rewrite commit (compaction): a change that removed the files it replaces fails it
 * cleanly, and so do rows that do not add up; either way nothing is committed and its files go.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class RewriteConflictTest {
  private static final TableId TABLE = TableId.of("ns", "t");

  @TempDir Path temp;
  private DuckDbParquetWriter writer;
  private IcebergTableStore store;

  @BeforeEach
  void open() throws Exception {
    writer = new DuckDbParquetWriter(64L << 20, Files.createDirectories(temp.resolve("spill")));
    store = IcebergTableStore.open(temp.resolve("data"), writer, ParquetWriteOptions.DEFAULTS);
  }

  @AfterEach
  void close() throws Exception {
    store.close();
    writer.close();
  }

  @Test
  void aRewriteOfFilesAnOverwriteRemovedFailsAndCommitsNothing(BufferAllocator allocator)
      throws Exception {
    for (int i = 0; i < 3; i++) {
      append(allocator, TestReaders.sequence(allocator, 1, 10));
    }
    QuiverTable read = store.load(TABLE);
    long snapshot = read.currentSnapshotId().orElseThrow();
    List<ScanFile> small = read.files(snapshot, Expressions.alwaysTrue());
    try (ArrowReader rows = TestReaders.sequence(allocator, 1, 5)) {
      store.replace(TABLE, rows, allocator);
    }
    List<Path> before = TestSqlEngine.parquetFiles(temp.resolve("data"));

    assertThatThrownBy(
            () -> {
              try (ArrowReader rows = TestReaders.sequence(allocator, 3, 10)) {
                store.rewrite(read, snapshot, small, List.of(), rows, allocator);
              }
            })
        .isInstanceOf(QuiverException.class)
        .satisfies(
            e ->
                assertThat(((QuiverException) e).code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
        .hasMessageContaining("Cannot compact table ns.t: it changed since snapshot " + snapshot)
        .hasMessageContaining("nothing was changed");

    assertThat(TestSqlEngine.parquetFiles(temp.resolve("data"))).isEqualTo(before);
    assertThat(store.liveUploads()).isEmpty();
    QuiverTable now = store.load(TABLE);
    assertThat(now.files(now.currentSnapshotId().orElseThrow(), Expressions.alwaysTrue()))
        .extracting(f -> f.data().recordCount())
        .containsExactly(5L);
  }

  @Test
  void aRewriteWhoseRowsDoNotAddUpCommitsNothing(BufferAllocator allocator) throws Exception {
    for (int i = 0; i < 3; i++) {
      append(allocator, TestReaders.sequence(allocator, 1, 10));
    }
    QuiverTable read = store.load(TABLE);
    long snapshot = read.currentSnapshotId().orElseThrow();
    List<ScanFile> small = read.files(snapshot, Expressions.alwaysTrue());
    List<Path> before = TestSqlEngine.parquetFiles(temp.resolve("data"));

    assertThatThrownBy(
            () -> {
              try (ArrowReader rows = TestReaders.sequence(allocator, 2, 10)) {
                store.rewrite(read, snapshot, small, List.of(), rows, allocator);
              }
            })
        .isInstanceOf(QuiverException.class)
        .satisfies(
            e -> assertThat(((QuiverException) e).code()).isEqualTo(QuiverErrorCode.INTERNAL))
        .hasMessageContaining("Cannot compact table ns.t: read 20 rows from 3 files that hold 30");

    assertThat(TestSqlEngine.parquetFiles(temp.resolve("data"))).isEqualTo(before);
    assertThat(store.load(TABLE).currentSnapshotId()).contains(snapshot);
  }

  private void append(BufferAllocator allocator, ArrowReader rows) throws Exception {
    try (rows) {
      store.append(TABLE, rows, allocator);
    }
  }
}
