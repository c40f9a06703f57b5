package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.table.TestReaders;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.Float16;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.TimeStampNanoTZVector;
import org.apache.arrow.vector.TimeStampNanoVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
class WriteAdapterTest {
  private static final Schema SCHEMA =
      new Schema(
          List.of(
              Field.nullable("h", new ArrowType.FloatingPoint(FloatingPointPrecision.HALF)),
              Field.nullable("at", new ArrowType.Timestamp(TimeUnit.NANOSECOND, "Asia/Tokyo"))));

  @Test
  void presentsFloat16AsFloat32AndZonedNanosecondsAsNaive(BufferAllocator allocator)
      throws Exception {
    assertThat(WriteAdapter.presentedSchema(SCHEMA))
        .isEqualTo(
            new Schema(
                List.of(
                    Field.nullable("h", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                    Field.nullable("at", new ArrowType.Timestamp(TimeUnit.NANOSECOND, null)))));
    try (VectorSchemaRoot batch = batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 1);
        WriteAdapter adapter = new WriteAdapter(allocator, source, SCHEMA)) {
      assertThat(adapter.loadNextBatch()).isTrue();
      VectorSchemaRoot presented = adapter.getVectorSchemaRoot();
      Float4Vector h = (Float4Vector) presented.getVector("h");
      assertThat(h.get(0)).isEqualTo(-2.5f);
      assertThat(h.isNull(1)).isTrue();
      assertThat(((TimeStampNanoVector) presented.getVector("at")).get(0))
          .isEqualTo(1_700_000_000_123_456_789L);
      assertThat(adapter.rows()).isEqualTo(2);
      assertThat(adapter.loadNextBatch()).isFalse();
      assertThat(adapter.sourceExhausted()).isTrue();
    }
  }

  @Test
  void endsASegmentAtItsByteBudgetWithoutReadingFurther(BufferAllocator allocator)
      throws Exception {
    try (VectorSchemaRoot batch = batch(allocator);
        ArrowReader source = TestReaders.repeating(allocator, batch, 3)) {
      try (WriteAdapter first = new WriteAdapter(allocator, source, SCHEMA, 1)) {
        assertThat(first.loadNextBatch()).isTrue();
        assertThat(first.loadNextBatch()).isFalse();
        assertThat(first.sourceExhausted()).isFalse();
        assertThat(first.bytes()).isPositive();
      }
      try (WriteAdapter rest = new WriteAdapter(allocator, source, SCHEMA)) {
        assertThat(rest.loadNextBatch()).isTrue();
        assertThat(rest.loadNextBatch()).isTrue();
        assertThat(rest.loadNextBatch()).isFalse();
        assertThat(rest.rows()).isEqualTo(4);
        assertThat(rest.sourceExhausted()).isTrue();
      }
    }
  }

  @Test
  void aSourceFailureEndsTheStreamAndIsKept(BufferAllocator allocator) throws Exception {
    IllegalStateException broken = new IllegalStateException("Client went away");
    try (VectorSchemaRoot batch = batch(allocator);
        ArrowReader source = TestReaders.failing(allocator, batch, 0, () -> broken);
        WriteAdapter adapter = new WriteAdapter(allocator, source, SCHEMA)) {
      assertThat(adapter.loadNextBatch()).isFalse();
      assertThat(adapter.failure()).isSameAs(broken);
      assertThat(adapter.loadNextBatch()).isFalse();
      assertThat(adapter.sourceExhausted()).isFalse();
    }
  }

  private static VectorSchemaRoot batch(BufferAllocator allocator) {
    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
    root.allocateNew();
    ((Float2Vector) root.getVector("h")).setSafe(0, Float16.toFloat16(-2.5f));
    ((Float2Vector) root.getVector("h")).setNull(1);
    ((TimeStampNanoTZVector) root.getVector("at")).setSafe(0, 1_700_000_000_123_456_789L);
    ((TimeStampNanoTZVector) root.getVector("at")).setNull(1);
    root.setRowCount(2);
    return root;
  }
}
