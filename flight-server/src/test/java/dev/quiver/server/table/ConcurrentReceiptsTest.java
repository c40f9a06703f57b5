package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.TableId;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A put's receipt names the snapshot that put made, even when other writers commit to the same
 * table at the same moment (after a commit, the table's current snapshot may be theirs).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class ConcurrentReceiptsTest {
  private static final TableId TABLE = TableId.of("ns", "hot");
  private static final int WRITERS = 16;
  private static final int PUTS = 800;

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
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void everyConcurrentPutsReceiptNamesItsOwnSnapshot(BufferAllocator allocator) throws Exception {
    // Put i writes i + 1 rows, so a snapshot's added-records tells which put made it.
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    List<Future<PutReceipt>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < PUTS; i++) {
        int rows = i + 1;
        futures.add(pool.submit(() -> put(allocator, rows)));
      }
      List<PutReceipt> receipts = new ArrayList<>();
      for (Future<PutReceipt> f : futures) {
        receipts.add(f.get(5, TimeUnit.MINUTES));
      }

      Set<Long> snapshotIds = new HashSet<>();
      QuiverTable table = store.load(TABLE);
      for (int i = 0; i < PUTS; i++) {
        PutReceipt receipt = receipts.get(i);
        assertThat(receipt.rows()).isEqualTo(i + 1);
        assertThat(snapshotIds.add(receipt.snapshotId()))
            .as("put %d's snapshot %d is named by no other receipt", i, receipt.snapshotId())
            .isTrue();
        Snapshot snapshot = table.table().snapshot(receipt.snapshotId());
        assertThat(snapshot).as("put %d's snapshot", i).isNotNull();
        Map<String, String> summary = snapshot.summary();
        assertThat(summary.get(SnapshotSummary.ADDED_RECORDS_PROP))
            .as("rows added by snapshot %d, named by put %d", receipt.snapshotId(), i)
            .isEqualTo(Long.toString(i + 1));
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
    }
  }

  private PutReceipt put(BufferAllocator allocator, int rows) throws Exception {
    try (BufferAllocator child = allocator.newChildAllocator("put", 0, Long.MAX_VALUE);
        ArrowReader source = TestReaders.sequence(child, 1, rows)) {
      return store.append(TABLE, source, child);
    }
  }
}
