package dev.quiver.server.memory;

import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * An Arrow allocation manager that takes each buffer straight from the C heap and gives it back
 * when Arrow releases it, so the memory the process holds for Arrow is what the allocators count.
 *
 * <p>Why not Arrow's default: arrow-memory-netty allocates through a Netty pool (4 MiB chunks in
 * two arenas per core, kept for reuse), whose chunks stay allocated after the buffers in them are
 * released, beyond anything {@code memory.total} sees; with gRPC's own pool they took the JVM past
 * its direct memory limit under ten streams at full speed (docs/architecture.md, "Direct memory").
 * This is what arrow-memory-unsafe's allocation manager does, which is not among the artifacts this
 * build resolves.
 */
final class UnpooledAllocationManager extends AllocationManager {
  private static final ArrowBuf EMPTY =
      new ArrowBuf(ReferenceManager.NO_OP, null, 0, MemoryUtil.allocateMemory(0));

  /** Hands out {@link UnpooledAllocationManager}s; give it to a RootAllocator's config. */
  static final AllocationManager.Factory FACTORY =
      new AllocationManager.Factory() {
        @Override
        public AllocationManager create(BufferAllocator accountingAllocator, long size) {
          return new UnpooledAllocationManager(accountingAllocator, size);
        }

        @Override
        public ArrowBuf empty() {
          return EMPTY;
        }
      };

  private final long size;
  private final long address;

  private UnpooledAllocationManager(BufferAllocator accountingAllocator, long size) {
    super(accountingAllocator);
    this.address = MemoryUtil.allocateMemory(size);
    this.size = size;
  }

  @Override
  public long getSize() {
    return size;
  }

  @Override
  protected long memoryAddress() {
    return address;
  }

  @Override
  protected void release0() {
    MemoryUtil.freeMemory(address);
  }
}
