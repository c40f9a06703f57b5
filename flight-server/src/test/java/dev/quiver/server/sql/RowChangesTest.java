package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFileIO;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * DELETE and UPDATE racing other commits, made deterministic: the racing statement runs to its
 * commit (on another thread) while the first one is between reading its files and committing (in
 * its after-batch hook, which runs once the rewritten rows are read).
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class RowChangesTest {
  private static final TableId TABLE = TableId.of("ns", "t");

  @TempDir Path temp;
  private DuckDbParquetWriter writer;
  private IcebergTableStore store;
  private SqlEngine engine;
  private SqlUpdates updates;
  private final ExecutorService racer = Executors.newSingleThreadExecutor();

  @BeforeEach
  void open(BufferAllocator allocator) throws Exception {
    Path spill = Files.createDirectories(temp.resolve("tmp"));
    writer = new DuckDbParquetWriter(128L << 20, spill);
    store = IcebergTableStore.open(temp.resolve("data"), writer, ParquetWriteOptions.DEFAULTS);
    engine =
        SqlEngine.open(
            store,
            new SqlEngine.Settings(
                128L << 20, 2, 4, 16, Duration.ofSeconds(30), spill, List.of(temp)),
            allocator.newChildAllocator("SQL (C Data import)", 0, Long.MAX_VALUE));
    updates = new SqlUpdates(engine, store);
    run(allocator, "CREATE TABLE ns.t (id BIGINT, label VARCHAR)");
    run(allocator, "INSERT INTO ns.t SELECT range, 'initial' FROM range(0, 10)");
    run(allocator, "INSERT INTO ns.t SELECT range, 'initial' FROM range(10, 20)");
  }

  @AfterEach
  void close() throws Exception {
    racer.shutdownNow();
    assertThat(racer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    AutoCloseables.close(engine, store, writer);
  }

  @Test
  void aDeleteRacingAnAppendOfOtherRowsKeepsBoth(BufferAllocator allocator) throws Exception {
    long deleted =
        runRacing(
            allocator,
            "DELETE FROM ns.t WHERE id < 5",
            "INSERT INTO ns.t SELECT range, 'appended' FROM range(100, 110)");

    assertThat(deleted).isEqualTo(5);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t")).containsExactly(25L);
    assertThat(longs(allocator, "SELECT min(id) FROM ns.t")).containsExactly(5L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'appended'"))
        .containsExactly(10L);
  }

  @Test
  void aDeleteRacingAnAppendOfMatchingRowsFailsAndChangesNothing(BufferAllocator allocator)
      throws Exception {
    assertThatThrownBy(
            () ->
                runRacing(
                    allocator,
                    "DELETE FROM ns.t WHERE id < 5",
                    "INSERT INTO ns.t VALUES (1, 'appended')"))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
        .hasMessageContaining("Cannot change table ns.t: a concurrent commit changed rows");

    assertThat(longs(allocator, "SELECT count(*) FROM ns.t")).containsExactly(21L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE id < 5")).containsExactly(6L);
    assertNoStagedFiles();
  }

  @Test
  void ofTwoConflictingUpdatesTheSecondToCommitFails(BufferAllocator allocator) throws Exception {
    assertThatThrownBy(
            () ->
                runRacing(
                    allocator,
                    "UPDATE ns.t SET label = 'first' WHERE id < 5",
                    "UPDATE ns.t SET label = 'second' WHERE id < 3"))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
        .hasMessageContaining("ns.t");

    // The table is the second update's outcome alone.
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'second'"))
        .containsExactly(3L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'first'"))
        .containsExactly(0L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t")).containsExactly(20L);
    assertNoStagedFiles();
  }

  @Test
  void updatesOfDisjointFilesBothLand(BufferAllocator allocator) throws Exception {
    long updated =
        runRacing(
            allocator,
            "UPDATE ns.t SET label = 'first' WHERE id < 5",
            "UPDATE ns.t SET label = 'second' WHERE id >= 15");

    assertThat(updated).isEqualTo(5);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'first'"))
        .containsExactly(5L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'second'"))
        .containsExactly(5L);
  }

  @Test
  void aMergeRacingAnyCommitToItsTableFailsAndChangesNothing(BufferAllocator allocator)
      throws Exception {
    // MERGE's conflict filter is the whole table (its ON condition is not translated yet).
    assertThatThrownBy(
            () ->
                runRacing(
                    allocator,
                    "MERGE INTO ns.t USING (SELECT 3 AS id) s ON t.id = s.id"
                        + " WHEN MATCHED THEN UPDATE SET label = 'merged'",
                    "INSERT INTO ns.t VALUES (100, 'appended')"))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
        .hasMessageContaining("Cannot change table ns.t");

    assertThat(longs(allocator, "SELECT count(*) FROM ns.t WHERE label = 'merged'"))
        .containsExactly(0L);
    assertThat(longs(allocator, "SELECT count(*) FROM ns.t")).containsExactly(21L);
    assertNoStagedFiles();
  }

  @Test
  void aTableWithAnotherEnginesDeleteFilesIsRefusedNotResurrected(BufferAllocator allocator)
      throws Exception {
    Table table = store.load(TABLE).table();
    DataFile first = table.currentSnapshot().addedDataFiles(table.io()).iterator().next();
    // A position delete file as Trino or Spark would commit it (its content is never read here).
    DeleteFile deletes =
        FileMetadata.deleteFileBuilder(table.spec())
            .ofPositionDeletes()
            .withPath(first.location().replace(".parquet", "-deletes.parquet"))
            .withFormat(FileFormat.PARQUET)
            .withFileSizeInBytes(100)
            .withRecordCount(1)
            .build();
    table.newRowDelta().addDeletes(deletes).commit();

    for (String statement :
        List.of(
            "DELETE FROM ns.t WHERE id = 1",
            "UPDATE ns.t SET label = 'x' WHERE id = 1",
            "MERGE INTO ns.t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE")) {
      assertThatThrownBy(() -> run(allocator, statement))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNSUPPORTED_OPERATION))
          .hasMessageContaining("rows of table ns.t: its data file")
          .hasMessageContaining("has delete files (written by another engine)");
    }
    // Nothing committed after the other engine's row delta.
    assertThat(store.load(TABLE).table().currentSnapshot().operation()).isEqualTo("delete");
  }

  /** Runs {@code statement}; once its rows are read, {@code racing} runs and commits first. */
  private long runRacing(BufferAllocator allocator, String statement, String racing)
      throws Exception {
    AtomicBoolean raced = new AtomicBoolean();
    long count;
    try (BufferAllocator call = allocator.newChildAllocator("statement", 0, Long.MAX_VALUE)) {
      count =
          updates.execute(
              statement,
              "",
              List.of(),
              call,
              () -> {
                if (raced.compareAndSet(false, true)) {
                  try {
                    racer.submit(() -> run(allocator, racing)).get(60, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    throw new AssertionError("The racing statement failed", e);
                  }
                }
              });
    }
    assertThat(raced).as("the racing statement ran").isTrue();
    return count;
  }

  private long run(BufferAllocator allocator, String sql) throws Exception {
    try (BufferAllocator call = allocator.newChildAllocator(sql, 0, Long.MAX_VALUE)) {
      return updates.execute(sql, "", List.of(), call, () -> {});
    }
  }

  private List<Long> longs(BufferAllocator allocator, String sql) throws Exception {
    List<Long> out = new ArrayList<>();
    try (BufferAllocator call = allocator.newChildAllocator(sql, 0, Long.MAX_VALUE);
        SqlQuery query = engine.prepare(sql, "", List.of())) {
      query.execute(call, 1024);
      while (query.next()) {
        for (int i = 0; i < query.root().getRowCount(); i++) {
          out.add(((Number) query.root().getVector(0).getObject(i)).longValue());
        }
      }
    }
    return out;
  }

  /** Every Parquet file in the warehouse is one a snapshot committed: the failed one left none. */
  private void assertNoStagedFiles() throws Exception {
    List<String> committed = new ArrayList<>();
    Table table = store.load(TABLE).table();
    for (Snapshot snapshot : table.snapshots()) {
      snapshot
          .addedDataFiles(table.io())
          .forEach(f -> committed.add(LocalFileIO.toPath(f.location()).toString()));
    }
    List<String> onDisk = new ArrayList<>();
    try (Stream<Path> files = Files.walk(temp.resolve("data"))) {
      files.filter(f -> f.toString().endsWith(".parquet")).forEach(f -> onDisk.add(f.toString()));
    }
    assertThat(committed).containsAll(onDisk);
  }
}
