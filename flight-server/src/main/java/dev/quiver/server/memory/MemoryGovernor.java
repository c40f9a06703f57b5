package dev.quiver.server.memory;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Owns the server's one Arrow {@link RootAllocator} and hands every call a child allocator capped
 * at the per-query limit.
 *
 * <p>Thread-safe. Whoever takes a call allocator closes it on every path; {@link #close()} then
 * finds the root empty. A call that outgrows its limit gets an Arrow OutOfMemoryException, which
 * the Flight layer reports as RESOURCE_EXHAUSTED (see {@link #exceeded}).
 */
public final class MemoryGovernor implements AutoCloseable {
  private final RootAllocator root;
  private final long queryLimit;

  /** A governor over {@code totalBytes} of Arrow memory, {@code queryLimitBytes} per call. */
  public MemoryGovernor(long totalBytes, long queryLimitBytes) {
    this.root = new RootAllocator(totalBytes);
    this.queryLimit = Math.min(queryLimitBytes, totalBytes);
  }

  /** A new child allocator for one call, named for the call and its table; caller closes it. */
  public BufferAllocator newCallAllocator(String name) {
    return root.newChildAllocator(name, 0, queryLimit);
  }

  /** The root allocator, for components that live as long as the server. */
  public BufferAllocator root() {
    return root;
  }

  public long queryLimit() {
    return queryLimit;
  }

  /** Bytes of Arrow memory allocated now, by every call together. */
  public long allocated() {
    return root.getAllocatedMemory();
  }

  /** The error for a call whose allocator ran out, naming the call and the limit. */
  public QuiverException exceeded(String callName, Throwable cause) {
    long rootLimit = root.getLimit();
    boolean serverFull = root.getAllocatedMemory() + queryLimit > rootLimit;
    if (serverFull) {
      return new QuiverException(
          QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
          cause,
          "%s: the server's Arrow memory is exhausted (%s of %s in use, memory.total)",
          callName,
          DataSize.format(root.getAllocatedMemory()),
          DataSize.format(rootLimit));
    }
    return new QuiverException(
        QuiverErrorCode.QUERY_MEMORY_EXCEEDED,
        cause,
        "%s needs more than %s (memory.query-limit)",
        callName,
        DataSize.format(queryLimit));
  }

  @Override
  public void close() {
    root.close();
  }
}
