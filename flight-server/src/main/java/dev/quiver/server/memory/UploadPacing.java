package dev.quiver.server.memory;

import com.google.errorprone.annotations.ThreadSafe;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What uploads waited for Arrow memory: a put's incoming batch that does not fit waits in Flight's
 * decoder for calls to release memory instead of failing ({@link TransportListener}), and a put
 * decodes nothing ahead of its writer while memory is short. The memory report's {@code
 * upload_pacing}.
 */
@ThreadSafe
public final class UploadPacing {
  /**
   * The figures since the start.
   *
   * @param decodes incoming batches that waited for memory to be decoded into
   * @param readAheadsHeld times an upload's next message was not asked for ahead of its writer
   *     because memory was short
   */
  public record Status(MemoryWaits.Status decodes, long readAheadsHeld) {}

  private final MemoryWaits decodes = new MemoryWaits();
  private final AtomicLong readAheadsHeld = new AtomicLong();

  /** Where decodes wait for room, counted. */
  MemoryWaits decodes() {
    return decodes;
  }

  void readAheadHeld() {
    readAheadsHeld.incrementAndGet();
  }

  Status status() {
    return new Status(decodes.status(), readAheadsHeld.get());
  }
}
