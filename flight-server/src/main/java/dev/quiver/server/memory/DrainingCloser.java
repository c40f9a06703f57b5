package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the allocators of calls that ended while gRPC still held batches they sent with zero-copy
 * (a client that stopped reading, a call given up on): each closes on a thread of its own once its
 * last buffer is released, since the releasing thread is inside Arrow's release of that buffer.
 */
@ThreadSafe
final class DrainingCloser {
  private static final Logger LOG = LoggerFactory.getLogger(DrainingCloser.class);

  private final Set<BufferAllocator> draining = ConcurrentHashMap.newKeySet();
  private final ExecutorService closer =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread thread = new Thread(r, "quiver-call-closer");
            thread.setDaemon(true);
            return thread;
          });

  /** Closes {@code call} now if it holds nothing, or else once its last buffer is released. */
  void closeWhenReleased(BufferAllocator call) {
    draining.add(call);
    released();
  }

  boolean isDraining(BufferAllocator call) {
    return draining.contains(call);
  }

  boolean isEmpty() {
    return draining.isEmpty();
  }

  /**
   * Memory was released: closes the draining calls that are now empty. Cheap when there are none.
   */
  void released() {
    if (draining.isEmpty()) {
      return;
    }
    for (BufferAllocator call : draining) {
      if (call.getAllocatedMemory() == 0 && draining.remove(call)) {
        try {
          closer.execute(() -> closeQuietly(call));
        } catch (RejectedExecutionException e) {
          closeQuietly(call); // after shutdown gave up waiting for it
        }
      }
    }
  }

  /** Stops the closer, waiting at most {@code timeoutNanos} for the closes under way. */
  void shutdown(long timeoutNanos) throws InterruptedException {
    closer.shutdown();
    closer.awaitTermination(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
  }

  private static void closeQuietly(BufferAllocator call) {
    try {
      call.close();
    } catch (RuntimeException e) {
      LOG.error("Could not close the allocator of {}", call.getName(), e);
    }
  }
}
