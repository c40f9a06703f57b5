package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.config.CatalogSettings;
import dev.quiver.server.config.StorageSettings;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage faults at the table store: a full disk while writing and a locked catalog database fail
 * the put with a clear status, leave the table as it was and its staged files gone, and the next
 * put works once the fault is over.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class StorageFaultsTest {
  private static final TableId TABLE = TableId.of("ns", "t");
  private static final Path DEV_FULL = Path.of("/dev/full");

  @TempDir Path temp;
  private final AtomicBoolean diskFull = new AtomicBoolean();
  private DuckDbParquetWriter writer;
  private IcebergTableStore store;

  @BeforeEach
  void open() throws Exception {
    writer =
        new DuckDbParquetWriter(
            64L << 20,
            Files.createDirectories(temp.resolve("spill")),
            file -> diskFull.get() ? DEV_FULL : file);
    store =
        IcebergTableStore.open(
            temp.resolve("data"),
            StorageSettings.local(temp.resolve("data").toAbsolutePath().normalize()),
            new CatalogSettings(
                Optional.empty(),
                "",
                "",
                "quiver",
                Optional.empty(),
                Duration.ofSeconds(30),
                Duration.ofMillis(300)),
            writer,
            ParquetWriteOptions.DEFAULTS);
  }

  @AfterEach
  void close() throws Exception {
    store.close();
    writer.close();
  }

  @Test
  void aFullDiskFailsThePutWithStorageFullAndLeavesTheTableUnchanged(BufferAllocator allocator)
      throws Exception {
    assumeTrue(Files.isWritable(DEV_FULL), "needs /dev/full");
    PutReceipt first = append(allocator, 10);
    List<Path> files = dataFiles();

    diskFull.set(true);
    Throwable failure = catchThrowable(() -> append(allocator, 10));

    FlightRuntimeException flight = FlightErrors.toFlight("DoPut ns.t", failure);
    assertThat(flight.status().code()).isEqualTo(FlightStatusCode.RESOURCE_EXHAUSTED);
    assertThat(flight.getMessage())
        .contains("DoPut ns.t failed: no space left on the data folder's disk")
        .contains("nothing was committed");
    assertThat(QuiverException.fromFlight(flight).code()).isEqualTo(QuiverErrorCode.STORAGE_FULL);
    assertThat(store.load(TABLE).currentSnapshotId()).contains(first.snapshotId());
    assertThat(dataFiles()).isEqualTo(files);
    assertThat(store.liveUploads()).isEmpty();

    diskFull.set(false);
    assertThat(append(allocator, 5).rows()).isEqualTo(5 * 1000);
    assertThat(store.load(TABLE).table().snapshots()).hasSize(2);
    assertThat(append(allocator, 0).rows()).as("an empty put").isZero();
    assertThat(store.liveUploads()).as("no upload left registered").isEmpty();
  }

  @Test
  void aLockedCatalogFailsThePutWithCatalogUnavailableAndItWorksOnceReleased(
      BufferAllocator allocator) throws Exception {
    PutReceipt first = append(allocator, 10);
    List<Path> files = dataFiles();
    Throwable failure;
    try (Connection other =
            DriverManager.getConnection("jdbc:sqlite:" + temp.resolve("data/catalog.db"));
        Statement statement = other.createStatement()) {
      // Another writer holds SQLite's write lock: readers go on, commits wait, then give up.
      statement.execute("BEGIN IMMEDIATE");
      failure = catchThrowable(() -> append(allocator, 10));
      statement.execute("ROLLBACK");
    }

    FlightRuntimeException flight = FlightErrors.toFlight("DoPut ns.t", failure);
    assertThat(flight.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE);
    assertThat(flight.getMessage())
        .contains("DoPut ns.t failed: the catalog database is locked or unavailable")
        .contains("retry");
    assertThat(QuiverException.fromFlight(flight).code())
        .isEqualTo(QuiverErrorCode.CATALOG_UNAVAILABLE);
    assertThat(dataFiles()).isEqualTo(files);
    assertThat(store.liveUploads()).isEmpty();
    assertThat(store.load(TABLE).currentSnapshotId()).contains(first.snapshotId());

    PutReceipt after = append(allocator, 3);
    assertThat(store.load(TABLE).currentSnapshotId()).contains(after.snapshotId());
    assertThat(store.load(TABLE).table().currentSnapshot().summary().get("total-records"))
        .isEqualTo("13000");
  }

  private PutReceipt append(BufferAllocator allocator, int batches) throws Exception {
    try (ArrowReader source = TestReaders.sequence(allocator, batches, 1000)) {
      return store.append(TABLE, source, allocator);
    }
  }

  private List<Path> dataFiles() throws Exception {
    try (Stream<Path> walk = Files.walk(temp.resolve("data/warehouse"))) {
      return walk.filter(p -> p.toString().endsWith(".parquet")).sorted().toList();
    }
  }
}
