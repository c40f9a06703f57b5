package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(ArrowAllocatorExtension.class)
class TableScanNativeMemoryTest {
  private static final int ROWS = 400_000;
  @TempDir Path temp;
  private List<String> files;

  @BeforeEach
  void writeFiles() throws Exception {
    Schema schema = TestReaders.sequenceSchema();
    try (BufferAllocator allocator = new org.apache.arrow.memory.RootAllocator();
        DuckDbParquetWriter writer =
            new DuckDbParquetWriter(
                512L * 1024 * 1024, Files.createDirectories(temp.resolve("spill")));
        ArrowReader source = TestReaders.sequence(allocator, 8, ROWS / 8)) {
      files =
          writer
              .write(
                  source,
                  allocator,
                  schema,
                  ArrowSchemas.toIceberg(schema),
                  temp.resolve("data"),
                  ParquetWriteOptions.DEFAULTS)
              .stream()
              .map(file -> file.path().toUri().toString())
              .toList();
    }
  }

  @Test
  void nativeScanMemoryIsChargedWhileScanningAndReturnedOnClose(BufferAllocator root)
      throws Exception {
    long charged = 0;
    long rows = 0;
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, Long.MAX_VALUE)) {
      try (TableScan scan =
          new TableScan(call, files, TestReaders.sequenceSchema(), null, -1, 8192)) {
        while (scan.next()) {
          rows += scan.root().getRowCount();
          charged = Math.max(charged, scan.nativeBytes());
          assertThat(call.getAllocatedMemory()).isGreaterThanOrEqualTo(scan.nativeBytes());
        }
      }
      assertThat(call.getAllocatedMemory()).isZero();
    }
    assertThat(rows).isEqualTo(ROWS);
    assertThat(charged).isGreaterThan(0);
  }

  @Test
  void scanClosedAfterItsFirstBatchReturnsEverything(BufferAllocator root) throws Exception {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, Long.MAX_VALUE)) {
      try (TableScan scan =
          new TableScan(call, files, TestReaders.sequenceSchema(), null, -1, 1024)) {
        assertThat(scan.next()).isTrue();
        assertThat(scan.nativeBytes()).isGreaterThan(0);
      }
      assertThat(call.getAllocatedMemory()).isZero();
    }
  }

  @Test
  void scanUnderATinyLimitFailsWithQueryMemoryExceeded(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 1024 * 1024)) {
      assertThatThrownBy(
              () -> {
                try (TableScan scan =
                    new TableScan(call, files, TestReaders.sequenceSchema(), null, -1, 1024)) {
                  while (scan.next()) {
                    // drain
                  }
                }
              })
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED))
          .hasMessage(
              "DoGet t.a needs more than 1.0 MB (memory.query-limit): its native scan memory did"
                  + " not fit");
      assertThat(call.getAllocatedMemory()).isZero();
    }
  }
}
