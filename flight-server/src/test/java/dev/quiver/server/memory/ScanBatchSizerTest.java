package dev.quiver.server.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

class ScanBatchSizerTest {
  @Test
  void scansGetFullBatchesUntilPressureIsHighThenFewerRowsDownToTheMinimum() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20)) {
      ScanBatchSizer sizer = new ScanBatchSizer(governor, 65_536, 4096, 0.75);
      assertThat(sizer.rowsAt(0.0)).isEqualTo(65_536);
      assertThat(sizer.rowsAt(0.75)).isEqualTo(65_536);
      assertThat(sizer.rowsAt(0.875)).isEqualTo(32_768);
      assertThat(sizer.rowsAt(0.99)).isEqualTo(4096);
      assertThat(sizer.rowsAt(1.2)).isEqualTo(4096);
    }
  }

  @Test
  void batchRowsFollowsTheGovernorsPressureAndCountsReducedScans() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20)) {
      ScanBatchSizer sizer = new ScanBatchSizer(governor, 65_536, 4096, 0.5);
      assertThat(sizer.batchRows()).isEqualTo(65_536);
      try (BufferAllocator call = governor.newCallAllocator("DoGet ns.t");
          ArrowBuf held = call.buffer(3 << 18)) {
        assertThat(governor.pressure()).isGreaterThanOrEqualTo(0.75);
        int rows = sizer.batchRows();
        assertThat(rows).isLessThan(65_536).isGreaterThanOrEqualTo(4096);
        assertThat(sizer.stats().lastRows()).isEqualTo(rows);
        assertThat(held.capacity()).isPositive();
      }
      assertThat(sizer.batchRows()).isEqualTo(65_536);
      assertThat(sizer.stats().reducedScans()).isEqualTo(1);
    }
  }

  @Test
  void boundsAreChecked() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20)) {
      assertThatThrownBy(() -> new ScanBatchSizer(governor, 100, 200, 0.75))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Need 1 <= min rows <= max rows, got 200 and 100");
      assertThatThrownBy(() -> new ScanBatchSizer(governor, 100, 10, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("High pressure must be in (0, 1], got 0.0");
    }
  }
}
