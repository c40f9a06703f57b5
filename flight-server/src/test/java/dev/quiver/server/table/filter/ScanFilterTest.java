package dev.quiver.server.table.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.Test;

class ScanFilterTest {
  @Test
  void eachCallReturnsAnIndependentReadOnlyViewOfTheWholeMessage() {
    ByteBuffer bytes = ByteBuffer.allocateDirect(3).put(new byte[] {1, 2, 3}).flip();
    ScanFilter filter = new ScanFilter(bytes, Expressions.alwaysTrue());

    ByteBuffer first = filter.substrait();
    first.get();
    ByteBuffer second = filter.substrait();

    assertThat(second.isDirect()).isTrue();
    assertThat(second.isReadOnly()).isTrue();
    assertThat(second.position()).isZero();
    assertThat(second.remaining()).isEqualTo(3);
    assertThat(second.get(2)).isEqualTo((byte) 3);
  }

  @Test
  void heapBufferIsRejectedBecauseArrowReadsTheAddress() {
    assertThatThrownBy(() -> new ScanFilter(ByteBuffer.allocate(3), Expressions.alwaysTrue()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("substrait must be a direct buffer");
  }

  @Test
  void bufferThatDoesNotSpanItsCapacityIsRejected() {
    ByteBuffer partlyFilled = ByteBuffer.allocateDirect(8).put(new byte[] {1, 2}).flip();

    assertThatThrownBy(() -> new ScanFilter(partlyFilled, Expressions.alwaysTrue()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("substrait must span its whole capacity");
  }

  @Test
  void nullPartsAreRejected() {
    assertThatThrownBy(() -> new ScanFilter(null, Expressions.alwaysTrue()))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("substrait is null");
    assertThatThrownBy(() -> new ScanFilter(ByteBuffer.allocateDirect(1), null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("iceberg is null");
  }
}
