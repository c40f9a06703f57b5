package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BearerTokensTest {
  @Test
  void aTokenNamesItsUserUntilItExpiresAFixedTimeAfterIssue() {
    ManualClock clock = new ManualClock();
    BearerTokens tokens = new BearerTokens(Duration.ofMinutes(10), 100, clock);
    String token = tokens.issue("alice");

    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Valid("alice"));
    clock.advance(Duration.ofMinutes(9));
    // Use does not extend a token's life.
    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Valid("alice"));
    clock.advance(Duration.ofMinutes(1));
    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Expired());
    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Unknown());
  }

  @Test
  void tokensAreRandomAndUnknownOnesAreRefused() {
    BearerTokens tokens = new BearerTokens(Duration.ofHours(1), 100, Clock.systemUTC());
    String a = tokens.issue("alice");
    String b = tokens.issue("alice");
    assertThat(a).isNotEqualTo(b).hasSizeGreaterThanOrEqualTo(43);
    assertThat(tokens.check("forged")).isEqualTo(new BearerTokens.Check.Unknown());
  }

  @Test
  void theStoreIsBoundedDroppingExpiredThenOldestTokens() {
    ManualClock clock = new ManualClock();
    BearerTokens tokens = new BearerTokens(Duration.ofMinutes(10), 3, clock);
    String first = tokens.issue("a");
    clock.advance(Duration.ofMinutes(1));
    tokens.issue("b");
    tokens.issue("c");
    String fourth = tokens.issue("d");

    assertThat(tokens.size()).isEqualTo(3);
    assertThat(tokens.check(first)).isEqualTo(new BearerTokens.Check.Unknown());
    assertThat(tokens.check(fourth)).isEqualTo(new BearerTokens.Check.Valid("d"));
  }
}
