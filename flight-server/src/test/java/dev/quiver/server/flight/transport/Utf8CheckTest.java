package dev.quiver.server.flight.transport;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.flight.stream.FlightStreamReader;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.validate.ValidateUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The upload check of utf8 columns: the ASCII fast path and the per-value check behind it. */
@ExtendWith(ArrowAllocatorExtension.class)
class Utf8CheckTest {
  private static VarCharVector column(BufferAllocator allocator, byte[]... values) {
    VarCharVector vector = new VarCharVector("name", allocator);
    vector.allocateNew();
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null) {
        vector.setNull(i);
      } else {
        vector.setSafe(i, values[i]);
      }
    }
    vector.setValueCount(values.length);
    return vector;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void asciiAndValidMultiByteValuesPass(BufferAllocator allocator) {
    try (VarCharVector ascii =
            column(allocator, utf8("alice"), null, utf8("a longer value, 23 b"));
        VarCharVector multiByte = column(allocator, utf8("café"), utf8("日本"), utf8(""))) {
      assertThatCode(() -> FlightStreamReader.checkUtf8(ascii)).doesNotThrowAnyException();
      assertThatCode(() -> FlightStreamReader.checkUtf8(multiByte)).doesNotThrowAnyException();
    }
  }

  @Test
  void invalidUtf8IsRefusedEvenWhenTheValuesTogetherWouldBeValid(BufferAllocator allocator) {
    byte[] e = utf8("é"); // 0xC3 0xA9: each half alone is not UTF-8
    try (VarCharVector bad = column(allocator, utf8("ok"), new byte[] {(byte) 0xC3, 0x28});
        VarCharVector split = column(allocator, new byte[] {e[0]}, new byte[] {e[1]})) {
      assertThatThrownBy(() -> FlightStreamReader.checkUtf8(bad))
          .isInstanceOf(ValidateUtil.ValidateException.class)
          .hasMessageContaining("UTF");
      assertThatThrownBy(() -> FlightStreamReader.checkUtf8(split))
          .isInstanceOf(ValidateUtil.ValidateException.class)
          .hasMessageContaining("UTF");
    }
  }

  @Test
  void onlyWellFormedUtf8PassesAsDuckDbRequires(BufferAllocator allocator) {
    byte[][] illFormed = {
      {(byte) 0xC0, (byte) 0x80}, // overlong NUL
      {(byte) 0xE0, (byte) 0x80, (byte) 0x80}, // overlong
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a surrogate, U+D800
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
      {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // five bytes
      {'a', (byte) 0xE2, (byte) 0x82}, // cut short
    };
    for (byte[] value : illFormed) {
      try (VarCharVector bad = column(allocator, utf8("ok"), value)) {
        assertThatThrownBy(() -> FlightStreamReader.checkUtf8(bad))
            .isInstanceOf(ValidateUtil.ValidateException.class)
            .hasMessageContaining("value 1 is not well-formed UTF-8");
      }
    }
    try (VarCharVector edges =
        column(
            allocator,
            utf8("\u0080\u07FF\u0800\uD7FF\uE000\uFFFF"),
            utf8(new String(Character.toChars(0x10000)) + new String(Character.toChars(0x10FFFF))),
            null)) {
      assertThatCode(() -> FlightStreamReader.checkUtf8(edges)).doesNotThrowAnyException();
    }
  }

  @Test
  void offsetsOutOfOrderOrPastTheDataAreRefused(BufferAllocator allocator) {
    try (VarCharVector backwards = column(allocator, utf8("abc"), utf8("def"));
        VarCharVector past = column(allocator, utf8("abc"))) {
      backwards.getOffsetBuffer().setInt(VarCharVector.OFFSET_WIDTH, 5);
      backwards.getOffsetBuffer().setInt(2L * VarCharVector.OFFSET_WIDTH, 4);
      past.getOffsetBuffer().setInt(VarCharVector.OFFSET_WIDTH, Integer.MAX_VALUE);
      assertThatThrownBy(() -> FlightStreamReader.checkUtf8(backwards))
          .isInstanceOf(ValidateUtil.ValidateException.class)
          .hasMessageContaining("Column name: offsets out of order at 2");
      assertThatThrownBy(() -> FlightStreamReader.checkUtf8(past))
          .isInstanceOf(ValidateUtil.ValidateException.class)
          .hasMessageContaining("Not enough capacity for data buffer");
    }
  }
}
