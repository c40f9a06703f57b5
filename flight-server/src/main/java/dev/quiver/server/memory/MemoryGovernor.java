package dev.quiver.server.memory;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the server's one Arrow {@link RootAllocator} and hands every call a child allocator capped
 * at the per-query limit.
 *
 * <p>Thread-safe. Whoever takes a call allocator closes it on every path; {@link #close()} then
 * finds the root empty. A call that outgrows its limit gets an Arrow OutOfMemoryException, which
 * the Flight layer reports as RESOURCE_EXHAUSTED (see {@link #exceeded}).
 */
public final class MemoryGovernor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryGovernor.class);

  private final RootAllocator root;
  private final long queryLimit;
  // Open call allocators, guarded by itself; signalled when one closes. A counter rather than
  // root.getChildAllocators(): the listener runs under the root's own lock.
  private final Object callsLock = new Object();
  private int openCalls;

  /** A governor over {@code totalBytes} of Arrow memory, {@code queryLimitBytes} per call. */
  public MemoryGovernor(long totalBytes, long queryLimitBytes) {
    this.root = new RootAllocator(new CallListener(), totalBytes);
    this.queryLimit = Math.min(queryLimitBytes, totalBytes);
  }

  /** A new child allocator for one call, named for the call and its table; caller closes it. */
  public BufferAllocator newCallAllocator(String name) {
    BufferAllocator child = root.newChildAllocator(name, 0, queryLimit);
    synchronized (callsLock) {
      openCalls++;
    }
    return child;
  }

  /**
   * Waits until every call allocator has been closed, at most {@code timeout}; true if they all
   * were. Used at shutdown, after the calls have been cancelled, so that the root is closed only
   * once the calls have released their memory.
   */
  public boolean awaitCallsClosed(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (callsLock) {
      while (openCalls > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(callsLock, left);
      }
      return true;
    }
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

  /**
   * Closes the root allocator. If calls still hold memory (they did not finish when asked to), the
   * root is left open and the holders are logged: the process is exiting, and failing the shutdown
   * over it would only hide the report.
   */
  @Override
  public void close() {
    if (root.getAllocatedMemory() != 0 || !root.getChildAllocators().isEmpty()) {
      LOG.error("Arrow memory still held at shutdown:\n{}", root.toVerboseString());
      return;
    }
    root.close();
  }

  private final class CallListener implements AllocationListener {
    @Override
    public void onChildRemoved(BufferAllocator parent, BufferAllocator child) {
      if (parent == root) {
        synchronized (callsLock) {
          openCalls--;
          callsLock.notifyAll();
        }
      }
    }
  }
}
