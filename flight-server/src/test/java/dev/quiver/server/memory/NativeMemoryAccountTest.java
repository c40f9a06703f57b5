package dev.quiver.server.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.testing.ArrowAllocatorExtension;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
class NativeMemoryAccountTest {
  private static final long BLOCK = NativeMemoryAccount.GRANULE;

  @Test
  void reserveChargesTheAllocatorWithoutBuffers(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 64 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      account.reserve(3 * BLOCK);
      assertThat(call.getAllocatedMemory()).isEqualTo(3 * BLOCK);
      assertThat(root.getAllocatedMemory()).isEqualTo(3 * BLOCK);
      assertThat(account.held()).isEqualTo(3 * BLOCK);
    }
  }

  @Test
  void unreserveOfOtherSizesGivesBackExactly(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 64 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      account.reserve(3 * BLOCK);
      account.reserve(BLOCK);
      account.unreserve(2 * BLOCK);
      assertThat(call.getAllocatedMemory()).isEqualTo(2 * BLOCK);
      account.unreserve(2 * BLOCK);
      assertThat(call.getAllocatedMemory()).isZero();
      assertThat(account.peak()).isEqualTo(4 * BLOCK);
    }
  }

  @Test
  void sizesThatAreNotWholeBlocksAreRoundedUp(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 64 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      account.reserve(BLOCK + 1);
      assertThat(call.getAllocatedMemory()).isEqualTo(2 * BLOCK);
      account.unreserve(1);
      assertThat(call.getAllocatedMemory()).isEqualTo(BLOCK);
    }
  }

  @Test
  void anUnreserveArrivingBeforeItsReserveIsCredited(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 64 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      account.unreserve(BLOCK);
      assertThat(call.getAllocatedMemory()).isZero();
      account.reserve(BLOCK);
      assertThat(call.getAllocatedMemory()).isZero();
      account.reserve(BLOCK);
      assertThat(call.getAllocatedMemory()).isEqualTo(BLOCK);
    }
  }

  @Test
  void reserveBeyondTheQueryLimitIsRefused(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 2 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      account.reserve(BLOCK);
      assertThatThrownBy(() -> account.reserve(2 * BLOCK))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED))
          .hasMessage(
              "DoGet t.a needs more than 1.0 MB (memory.query-limit): its native scan memory did"
                  + " not fit");
      assertThat(account.refusal()).isNotNull();
      assertThat(call.getAllocatedMemory()).isEqualTo(2 * BLOCK);
    }
  }

  @Test
  void reserveBeyondTheServerTotalIsRefusedNamingTheTotal(BufferAllocator root) {
    try (BufferAllocator server = root.newChildAllocator("root", 0, 2 * BLOCK);
        BufferAllocator call = server.newChildAllocator("DoGet t.a", 0, 64 * BLOCK);
        NativeMemoryAccount account = new NativeMemoryAccount(call)) {
      assertThatThrownBy(() -> account.reserve(3 * BLOCK))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.SERVER_MEMORY_EXHAUSTED))
          .hasMessageContaining("DoGet t.a: the server's Arrow memory is exhausted")
          .hasMessageContaining("memory.total");
    }
  }

  @Test
  void closeGivesEverythingBackAndRefusesLaterReserves(BufferAllocator root) {
    try (BufferAllocator call = root.newChildAllocator("DoGet t.a", 0, 64 * BLOCK)) {
      NativeMemoryAccount account = new NativeMemoryAccount(call);
      account.reserve(5 * BLOCK);
      account.close();
      assertThat(call.getAllocatedMemory()).isZero();
      account.unreserve(5 * BLOCK);
      assertThatThrownBy(() -> account.reserve(BLOCK))
          .isInstanceOfSatisfying(
              QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INTERNAL))
          .hasMessage("DoGet t.a: native memory asked for 512.0 KB after its scan closed");
      account.close();
      assertThat(call.getAllocatedMemory()).isZero();
    }
  }
}
