package dev.quiver.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.CallOptions;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ArrowAllocatorExtension.class)
class ClientOptionsTest {
  @Test
  void defaults() {
    ClientOptions options = ClientOptions.defaults();

    assertThat(options.parentAllocator()).isEmpty();
    assertThat(options.callTimeout()).isEmpty();
    assertThat(options.stallTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(options.callOptions()).isEmpty();
  }

  @Test
  void explicitProperties(BufferAllocator allocator) {
    CallOption option = CallOptions.timeout(5, TimeUnit.SECONDS);

    ClientOptions options =
        ClientOptions.builder()
            .parentAllocator(allocator)
            .callTimeout(Duration.ofSeconds(3))
            .stallTimeout(Duration.ofSeconds(9))
            .addCallOption(option)
            .build();

    assertThat(options.parentAllocator()).containsSame(allocator);
    assertThat(options.callTimeout()).contains(Duration.ofSeconds(3));
    assertThat(options.stallTimeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(options.callOptions()).containsExactly(option);
  }

  @Test
  void timeoutsMustBePositive() {
    assertThatThrownBy(() -> ClientOptions.builder().stallTimeout(Duration.ZERO).build())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("stallTimeout must be positive but was PT0S");
    assertThatThrownBy(() -> ClientOptions.builder().callTimeout(Duration.ofSeconds(-1)).build())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("callTimeout must be positive but was PT-1S");
  }
}
