package dev.quiver.server.memory;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.arrow.dataset.jni.ReservationListener;
import org.apache.arrow.memory.AllocationReservation;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Charges the native (C++) memory of an arrow-dataset scan to a call's {@link BufferAllocator}, as
 * reservations that count against the allocator's limit and its parents' without allocating a
 * buffer. Give it to {@code NativeMemoryPool.createListenable} and close it after the pool.
 *
 * <p>How arrow-dataset 18.3 calls it (its JNI {@code ReservationListenableMemoryPool}): in blocks
 * of 512 KiB, {@code reserve} before the C++ allocation and {@code unreserve} after the free, from
 * whichever thread allocates or frees (Arrow's CPU and IO pools, attached to the JVM for the call,
 * or the Java thread that reads or closes the scan). The pool updates its own block count under a
 * lock but calls the listener outside it, so calls from different threads may arrive out of order.
 * When {@code reserve} throws, the allocation fails with the Java exception as its status detail,
 * but the pool does not take the blocks back from its count (its later unreserves include them).
 * When {@code unreserve} throws, the C++ side aborts the process: it never throws here.
 *
 * <p>Bookkeeping: {@code balance} is the pool's net reservation as seen here, which may go below
 * zero for a moment when calls arrive out of order. The allocator holds {@code balance} rounded up
 * to whole {@link #GRANULE}s, as a stack of one reservation per granule: an Arrow reservation can
 * only be given back whole, and {@code add} rounds to a power of two, so equal power-of-two
 * granules make every release exact and free of new reservations. A refused reserve stays in the
 * balance, as it does in the pool; the scan fails anyway.
 *
 * <p>{@link #close()} gives everything back; later reserves are refused and later unreserves
 * ignored, so a late free from a C++ thread is harmless.
 */
@ThreadSafe
public final class NativeMemoryAccount implements ReservationListener, AutoCloseable {
  /** The unit charged to the allocator: arrow-dataset's JNI block size, a power of two. */
  public static final long GRANULE = 512 * 1024;

  private final String name;
  private BufferAllocator allocator; // null once closed, so a pool left open pins nothing
  private final Deque<AllocationReservation> granules = new ArrayDeque<>();
  private long balance;
  private long peak;
  private QuiverException refusal;
  private boolean closed;

  /** An account charging {@code allocator}, which must outlive it. */
  public NativeMemoryAccount(BufferAllocator allocator) {
    this.allocator = requireNonNull(allocator, "allocator is null");
    this.name = allocator.getName();
  }

  /**
   * Charges {@code bytes} more to the allocator.
   *
   * @throws QuiverException QUERY_MEMORY_EXCEEDED (or SERVER_MEMORY_EXHAUSTED when the server's
   *     total is what is full) when the budget has no room, or after close
   */
  @Override
  public synchronized void reserve(long bytes) {
    balance += bytes;
    if (closed) {
      throw refuse(bytes);
    }
    while (held() < balance) {
      AllocationReservation granule = allocator.newReservation();
      boolean added;
      try {
        added = granule.add(GRANULE);
      } catch (RuntimeException e) {
        granule.close();
        throw refuse(bytes);
      }
      if (!added) {
        granule.close();
        throw refuse(bytes);
      }
      granules.push(granule);
    }
    peak = Math.max(peak, held());
  }

  /** Gives {@code bytes} back; never throws (the C++ caller would abort the process). */
  @Override
  public synchronized void unreserve(long bytes) {
    balance -= bytes;
    try {
      while (!granules.isEmpty() && held() - GRANULE >= balance) {
        granules.pop().close();
      }
    } catch (RuntimeException e) {
      // The allocator was closed under us: there is nothing left to give back to.
      granules.clear();
    }
  }

  /** Bytes charged to the allocator now. */
  public synchronized long held() {
    return granules.size() * GRANULE;
  }

  /** The most bytes charged at once. */
  public synchronized long peak() {
    return peak;
  }

  /**
   * Whether the pool has given back everything it reserved, and never had a reserve refused (the
   * pool keeps refused blocks in its count). Only a drained pool may be closed: C++ threads of a
   * scan closed early (readahead) free their buffers through the pool later, and freeing through a
   * deleted pool crashes the process.
   */
  public synchronized boolean drained() {
    return balance == 0 && refusal == null;
  }

  /**
   * The error of the first refused reserve, or null; the scan reports it in place of the C++ one.
   */
  public synchronized QuiverException refusal() {
    return refusal;
  }

  private QuiverException refuse(long bytes) {
    if (refusal == null) {
      refusal = exceeded(bytes);
    }
    return refusal;
  }

  private QuiverException exceeded(long bytes) {
    if (closed) {
      return new QuiverException(
          QuiverErrorCode.INTERNAL,
          "%s: native memory asked for %s after its scan closed",
          name,
          DataSize.format(bytes));
    }
    BufferAllocator root = allocator.getRoot();
    // Call allocators are capped at memory.total (the query limit is checked per batch, see
    // MemoryGovernor), so a call allocator whose own cap is the root's is refused by the total.
    boolean ownLimit =
        allocator.getLimit() < root.getLimit()
            && allocator.getAllocatedMemory() + GRANULE > allocator.getLimit();
    if (!ownLimit && root != allocator) {
      return new QuiverException(
          QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
          "%s: the server's Arrow memory is exhausted (%s of %s in use, memory.total)",
          name,
          DataSize.format(root.getAllocatedMemory()),
          DataSize.format(root.getLimit()));
    }
    return new QuiverException(
        QuiverErrorCode.QUERY_MEMORY_EXCEEDED,
        "%s needs more than %s (memory.query-limit): its native scan memory did not fit",
        name,
        DataSize.format(allocator.getLimit()));
  }

  /** Gives back everything still charged. A second close does nothing. */
  @Override
  public synchronized void close() {
    closed = true;
    while (!granules.isEmpty()) {
      granules.pop().close();
    }
    allocator = null;
  }
}
