package dev.quiver.server.flight.stream;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * The batches a DoGet has handed to gRPC with zero-copy, for as long as gRPC may still hold them.
 *
 * <p>With zero-copy, Flight's message keeps a reference to each buffer of a sent batch until Netty
 * has written it to the socket, which can be well after gRPC reports the stream ready again. This
 * remembers each sent batch's reference managers (without taking references of its own, so the
 * memory is freed, and the governor told, the moment gRPC lets go). Once the source has loaded the
 * next batch, nothing else holds a sent batch's buffers (every source loads each batch into fresh
 * buffers), so a reference count above zero is gRPC's.
 *
 * <p>Used by the one thread that streams the call; only reads reference counts, so {@link
 * #inFlight} may run under the governor's release lock.
 */
final class SentBatches {
  // Per sent batch: the distinct reference managers of its buffers.
  private final ArrayDeque<List<ReferenceManager>> sent = new ArrayDeque<>();

  /** Remembers the batch in {@code root}, just sent. */
  void add(VectorSchemaRoot root) {
    Set<ReferenceManager> managers = Collections.newSetFromMap(new IdentityHashMap<>());
    for (FieldVector vector : root.getFieldVectors()) {
      collect(vector, managers);
    }
    sent.addLast(List.copyOf(managers));
  }

  private static void collect(FieldVector vector, Set<ReferenceManager> managers) {
    for (ArrowBuf buffer : vector.getFieldBuffers()) {
      // Empty buffers share a reference manager that does not count.
      if (buffer.capacity() > 0) {
        managers.add(buffer.getReferenceManager());
      }
    }
    for (FieldVector child : vector.getChildrenFromFields()) {
      collect(child, managers);
    }
  }

  /**
   * How many of the batches sent before the current one gRPC still holds; forgets the others. Call
   * once the source has loaded its next batch.
   */
  int inFlight() {
    sent.removeIf(batch -> !held(batch));
    return sent.size();
  }

  private static boolean held(List<ReferenceManager> batch) {
    for (ReferenceManager manager : batch) {
      if (manager.getRefCount() > 0) {
        return true;
      }
    }
    return false;
  }
}
