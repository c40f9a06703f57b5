package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PasswordHashTest {
  @Test
  void aHashMatchesItsPasswordAndNoOther() {
    PasswordHash hash = PasswordHash.create("s3cret".toCharArray(), 10_000);
    assertThat(hash.matches("s3cret".toCharArray())).isTrue();
    assertThat(hash.matches("s3creT".toCharArray())).isFalse();
    assertThat(hash.matches(new char[0])).isFalse();
  }

  @Test
  void theTextFormReadsBackAndNeverHoldsThePassword() {
    PasswordHash hash = PasswordHash.create("s3cret".toCharArray(), 12_345);
    String text = hash.toString();
    assertThat(text).startsWith("pbkdf2-sha256:12345:").doesNotContain("s3cret");
    PasswordHash parsed = PasswordHash.parse(text);
    assertThat(parsed).isEqualTo(hash);
    assertThat(parsed.matches("s3cret".toCharArray())).isTrue();
  }

  @Test
  void everyHashHasItsOwnSalt() {
    PasswordHash a = PasswordHash.create("same".toCharArray(), 10_000);
    PasswordHash b = PasswordHash.create("same".toCharArray(), 10_000);
    assertThat(a.salt()).isNotEqualTo(b.salt());
    assertThat(a.hash()).isNotEqualTo(b.hash());
  }

  @Test
  void theDefaultIsAHighIterationCount() {
    assertThat(PasswordHash.DEFAULT_ITERATIONS).isGreaterThanOrEqualTo(600_000);
  }

  @Test
  void malformedOrWeakHashesAreRefused() {
    assertThatThrownBy(() -> PasswordHash.parse("plain-text-password"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A password hash reads pbkdf2-sha256:<iterations>:<salt>:<hash>");
    String weak =
        PasswordHash.create("x".toCharArray(), 10_000).toString().replace(":10000:", ":1000:");
    assertThatThrownBy(() -> PasswordHash.parse(weak))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A password hash needs at least 10000 iterations, not 1000");
    assertThatThrownBy(() -> PasswordHash.parse("pbkdf2-sha256:20000:!!:??"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Malformed password hash");
  }
}
