package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;

/** The most recent calls refused or failed by a memory limit, for the memory report. */
@ThreadSafe
final class LimitHits {
  private final int kept;

  @GuardedBy("this")
  private final ArrayDeque<MemoryReport.LimitHit> hits = new ArrayDeque<>();

  /** Keeps the last {@code kept} hits. */
  LimitHits(int kept) {
    this.kept = kept;
  }

  /** Call {@code name} met {@code limitKey}, set to {@code limit}. */
  synchronized void record(String name, String limitKey, long limit) {
    if (hits.size() == kept) {
      hits.removeFirst();
    }
    hits.addLast(new MemoryReport.LimitHit(name, limitKey, limit, Instant.now()));
  }

  /** The hits kept, oldest first. */
  synchronized List<MemoryReport.LimitHit> recent() {
    return List.copyOf(hits);
  }
}
