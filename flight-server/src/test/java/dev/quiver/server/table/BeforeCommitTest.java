package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check an upload runs just before its commit (a cancelled call's): when it throws, nothing is
 * committed, for a new table or an existing one, and the staged files are gone.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class BeforeCommitTest {
  private static final TableId TABLE = TableId.of("ns", "t");
  private static final Runnable CANCELLED =
      () -> {
        throw new QuiverException(QuiverErrorCode.CANCELLED, "DoPut ns.t: the client cancelled");
      };

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
  void aCancelledFirstPutCreatesNoTable(BufferAllocator allocator) throws Exception {
    assertThatThrownBy(() -> append(allocator, CANCELLED))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.CANCELLED))
        .hasMessageContaining("the client cancelled");

    assertThat(store.find(TABLE)).isEmpty();
    assertThat(dataFiles()).isEmpty();
    assertThat(store.liveUploads()).isEmpty();
  }

  @Test
  void aCancelledAppendLeavesTheTableAsItWas(BufferAllocator allocator) throws Exception {
    PutReceipt first = append(allocator, () -> {});
    List<Path> files = dataFiles();

    assertThatThrownBy(() -> append(allocator, CANCELLED))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.CANCELLED))
        .hasMessageContaining("the client cancelled");

    assertThat(store.load(TABLE).table().snapshots()).hasSize(1);
    assertThat(store.load(TABLE).currentSnapshotId()).contains(first.snapshotId());
    assertThat(dataFiles()).isEqualTo(files);
    assertThat(store.liveUploads()).isEmpty();
  }

  private PutReceipt append(BufferAllocator allocator, Runnable beforeCommit) throws Exception {
    try (ArrowReader source = TestReaders.sequence(allocator, 3, 1000)) {
      return store.append(TABLE, source, allocator, beforeCommit);
    }
  }

  private List<Path> dataFiles() throws Exception {
    Path warehouse = temp.resolve("data/warehouse");
    try (Stream<Path> walk = Files.walk(warehouse)) {
      return walk.filter(p -> p.toString().endsWith(".parquet")).sorted().toList();
    }
  }
}
