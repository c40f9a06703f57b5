package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.server.config.DataSize;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.arrow.memory.AllocationListener;
import org.apache.arrow.memory.AllocationOutcome;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flight's transport allocator's listener: a decode that finds no memory past the transport reserve
 * waits, up to memory.admission-timeout, for calls to release some, instead of failing at once. It
 * blocks the gRPC executor thread of that one call, which is the backpressure a put needs (a
 * refusal there cannot become a clean status: gRPC fails the call with UNKNOWN).
 */
@ThreadSafe
final class TransportListener implements AllocationListener {
  private static final Logger LOG = LoggerFactory.getLogger(TransportListener.class);

  private final ReleaseSignal releases;
  private final Runnable onRelease;
  private final Duration timeout;
  private final LongSupplier allocated;
  private final long total;
  private final UploadPacing pacing;
  private final AtomicInteger waiters = new AtomicInteger();
  private volatile BufferAllocator transport;

  /**
   * @param releases what a waiting decode waits on
   * @param onRelease run at each release of transport memory
   * @param timeout the longest a decode waits
   * @param allocated the server's Arrow memory in use, for the log line of a decode that gives up
   * @param total memory.total's Arrow share, for the same line
   * @param pacing where each wait is counted, for the memory report
   */
  TransportListener(
      ReleaseSignal releases,
      Runnable onRelease,
      Duration timeout,
      LongSupplier allocated,
      long total,
      UploadPacing pacing) {
    this.releases = releases;
    this.onRelease = onRelease;
    this.timeout = timeout;
    this.allocated = allocated;
    this.total = total;
    this.pacing = pacing;
  }

  /** The allocator this listens to, once made (it takes the listener when it is created). */
  void attach(BufferAllocator transport) {
    this.transport = transport;
  }

  /** Decodes waiting for memory now. */
  int waiters() {
    return waiters.get();
  }

  @Override
  public void onRelease(long size) {
    onRelease.run();
  }

  /** Waits for room to decode {@code size} more bytes; true (retry the allocation) if it came. */
  @Override
  public boolean onFailedAllocation(long size, AllocationOutcome outcome) {
    waiters.incrementAndGet();
    try {
      if (pacing
          .decodes()
          .await(releases, () -> transport.getHeadroom() >= size, timeout.toMillis())) {
        return true;
      }
      LOG.warn(
          "Flight could not decode an incoming batch of {} within {} ms: {} of {} in use",
          DataSize.format(size),
          timeout.toMillis(),
          DataSize.format(allocated.getAsLong()),
          DataSize.format(total));
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      waiters.decrementAndGet();
    }
  }
}
