package dev.quiver.server.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.time.Duration;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.junit.jupiter.api.Test;

class MemoryGovernorTest {
  @Test
  void callAllocatorsAreCappedAtTheQueryLimit() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 64 << 10);
        BufferAllocator call = governor.newCallAllocator("DoGet ns.t")) {
      assertThatThrownBy(() -> call.buffer(128 << 10)).isInstanceOf(OutOfMemoryException.class);
      try (ArrowBuf buffer = call.buffer(32 << 10)) {
        assertThat(governor.allocated()).isEqualTo(buffer.capacity());
      }
      assertThat(governor.allocated()).isZero();
    }
  }

  @Test
  void exceededNamesTheCallAndTheLimit() {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 30, 64 << 20)) {
      QuiverException e = governor.exceeded("DoGet sales.orders", null);
      assertThat(e.code()).isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED);
      assertThat(e).hasMessage("DoGet sales.orders needs more than 64.0 MB (memory.query-limit)");
    }
  }

  @Test
  void awaitCallsClosedWaitsForTheLastCall() throws Exception {
    try (MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20)) {
      BufferAllocator first = governor.newCallAllocator("first");
      BufferAllocator second = governor.newCallAllocator("second");
      first.close();
      assertThat(governor.awaitCallsClosed(Duration.ofMillis(50))).isFalse();
      Thread closer = new Thread(second::close);
      closer.start();
      assertThat(governor.awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
      closer.join();
    }
  }

  @Test
  void closingWithACallStillOpenReportsInsteadOfThrowing() {
    MemoryGovernor governor = new MemoryGovernor(1 << 20, 1 << 20);
    BufferAllocator call = governor.newCallAllocator("stuck");
    governor.close();
    call.close();
    governor.close();
    assertThat(governor.allocated()).isZero();
  }
}
