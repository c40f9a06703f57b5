package dev.quiver.server.flight.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
class SentBatchesTest {
  @Test
  void aSentBatchIsInFlightUntilTheLastReferenceBesidesTheSourcesGoes(BufferAllocator allocator) {
    try (BigIntVector ids = new BigIntVector("id", allocator);
        VarCharVector names = new VarCharVector("name", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.of(ids, names)) {
      SentBatches sent = new SentBatches();
      load(root, 0);
      // What Flight's zero-copy message does in putNext: a reference to each buffer.
      List<ArrowBuf> grpc = retainAll(root);
      sent.add(root);

      load(root, 100); // the source moves on; gRPC still holds the first batch
      assertThat(sent.inFlight()).isEqualTo(1);
      List<ArrowBuf> grpcSecond = retainAll(root);
      sent.add(root);
      load(root, 200);
      assertThat(sent.inFlight()).isEqualTo(2);

      grpc.forEach(ArrowBuf::close); // Netty has written the first batch
      assertThat(sent.inFlight()).isEqualTo(1);
      grpcSecond.forEach(ArrowBuf::close);
      assertThat(sent.inFlight()).isZero();
    }
  }

  @Test
  void aBatchGrpcIsDoneWithBeforeTheSourceMovesOnIsNotInFlight(BufferAllocator allocator) {
    try (BigIntVector ids = new BigIntVector("id", allocator);
        VectorSchemaRoot root = VectorSchemaRoot.of(ids)) {
      SentBatches sent = new SentBatches();
      load(root, 0);
      sent.add(root);
      root.clear();
      assertThat(sent.inFlight()).isZero();
    }
  }

  private static void load(VectorSchemaRoot root, long first) {
    // Fresh buffers for every batch, as every source loads them.
    root.clear();
    BigIntVector ids = (BigIntVector) root.getVector("id");
    ids.allocateNew(10);
    for (int i = 0; i < 10; i++) {
      ids.set(i, first + i);
    }
    if (root.getVector("name") instanceof VarCharVector names) {
      names.allocateNew(10);
      for (int i = 0; i < 10; i++) {
        names.setSafe(i, ("n" + (first + i)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    root.setRowCount(10);
  }

  private static List<ArrowBuf> retainAll(VectorSchemaRoot root) {
    List<ArrowBuf> buffers =
        root.getFieldVectors().stream().flatMap(v -> v.getFieldBuffers().stream()).toList();
    buffers.forEach(b -> b.getReferenceManager().retain());
    return buffers;
  }
}
