package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
import org.slf4j.LoggerFactory;

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
  void open(BufferAllocator allocator) throws Exception {
    writer = new DuckDbParquetWriter(64L << 20, Files.createDirectories(temp.resolve("spill")));
    store = IcebergTableStore.open(temp.resolve("data"), writer, ParquetWriteOptions.DEFAULTS);
    put(allocator, 1); // creates the table
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

  @Test
  void aReceiptNamesItsOwnSnapshotWhenAnotherWriterCommitsRightAfterIt(BufferAllocator allocator)
      throws Exception {
    assertThat(ownSnapshotWithAnotherCommitRightAfter(allocator, 3)).isEqualTo("3");
  }

  @Test
  void aCreatingPutsReceiptNamesItsOwnSnapshotWhenAnotherWriterAppendsRightAfterIt(
      BufferAllocator allocator) throws Exception {
    store.drop(TABLE);
    assertThat(ownSnapshotWithAnotherCommitRightAfter(allocator, 5)).isEqualTo("5");
  }

  /**
   * Puts {@code rows} rows while another writer appends 7 rows right after that put's commit, and
   * returns the added-records of the snapshot the put's receipt names.
   */
  private String ownSnapshotWithAnotherCommitRightAfter(BufferAllocator allocator, int rows)
      throws Exception {
    // Another writer commits right after this put's commit, before anything is read back.
    AtomicBoolean once = new AtomicBoolean();
    AtomicLong otherSnapshot = new AtomicLong();
    AFTER_COMMIT.set(
        () -> {
          if (once.compareAndSet(false, true)) {
            try {
              otherSnapshot.set(put(allocator, 7).snapshotId());
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        });
    PutReceipt mine;
    afterCommit.start();
    COMMITS.setLevel(Level.INFO);
    COMMITS.addAppender(afterCommit);
    try {
      mine = put(allocator, rows);
    } finally {
      AFTER_COMMIT.set(null);
      COMMITS.detachAppender(afterCommit);
      COMMITS.setLevel(null);
      afterCommit.stop();
    }
    assertThat(otherSnapshot.get()).as("the other writer's snapshot").isNotZero();
    assertThat(mine.snapshotId()).isNotEqualTo(otherSnapshot.get());
    return store
        .load(TABLE)
        .table()
        .snapshot(mine.snapshotId())
        .summary()
        .get(SnapshotSummary.ADDED_RECORDS_PROP);
  }

  /**
   * Run on the committing thread right after a commit has swapped the catalog's metadata pointer,
   * before Iceberg reads the table back, while set. The one hook Iceberg offers at that point is
   * the log line of BaseMetastoreTableOperations.commit, so the test listens for it.
   */
  private static final AtomicReference<Runnable> AFTER_COMMIT = new AtomicReference<>();

  private static final Logger COMMITS =
      (Logger) LoggerFactory.getLogger("org.apache.iceberg.BaseMetastoreTableOperations");

  private final AppenderBase<ILoggingEvent> afterCommit =
      new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
          Runnable hook = AFTER_COMMIT.get();
          if (hook != null && event.getMessage().startsWith("Successfully committed to table")) {
            hook.run();
          }
        }
      };

  private PutReceipt put(BufferAllocator allocator, int rows) throws Exception {
    try (BufferAllocator child = allocator.newChildAllocator("put", 0, Long.MAX_VALUE);
        ArrowReader source = TestReaders.sequence(child, 1, rows)) {
      return store.append(TABLE, source, child);
    }
  }
}
