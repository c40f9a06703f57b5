package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BearerTokensTest {
  @Test
  void aTokenNamesItsUserUntilItExpiresAFixedTimeAfterIssue() {
    ManualClock clock = new ManualClock();
    BearerTokens tokens = new BearerTokens(Duration.ofMinutes(10), BearerTokens.newKey(), clock);
    String token = tokens.issue("alice");

    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Valid("alice"));
    clock.advance(Duration.ofMinutes(9));
    // Use does not extend a token's life.
    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Valid("alice"));
    clock.advance(Duration.ofMinutes(1));
    assertThat(tokens.check(token)).isEqualTo(new BearerTokens.Check.Expired());
  }

  @Test
  void tokensAreRandomAndUnknownOnesAreRefused() {
    BearerTokens tokens =
        new BearerTokens(Duration.ofHours(1), BearerTokens.newKey(), Clock.systemUTC());
    String a = tokens.issue("alice");
    String b = tokens.issue("alice");
    assertThat(a).isNotEqualTo(b).hasSizeGreaterThanOrEqualTo(43);
    assertThat(tokens.check("forged")).isEqualTo(new BearerTokens.Check.Unknown());
    assertThat(tokens.check("v1.YQ.1.AA.AA")).isEqualTo(new BearerTokens.Check.Unknown());
    assertThat(tokens.check("v1.%%.x.y.z")).isEqualTo(new BearerTokens.Check.Unknown());
  }

  @Test
  void everyHolderOfTheKeyAcceptsATokenAndNoOtherDoes() {
    byte[] key = BearerTokens.newKey();
    BearerTokens nodeA = new BearerTokens(Duration.ofHours(1), key, Clock.systemUTC());
    BearerTokens nodeB = new BearerTokens(Duration.ofHours(1), key, Clock.systemUTC());
    BearerTokens otherCluster =
        new BearerTokens(Duration.ofHours(1), BearerTokens.newKey(), Clock.systemUTC());
    String token = nodeA.issue("alice.smith");

    assertThat(nodeB.check(token)).isEqualTo(new BearerTokens.Check.Valid("alice.smith"));
    assertThat(otherCluster.check(token)).isEqualTo(new BearerTokens.Check.Unknown());
  }

  @Test
  void anAlteredTokenIsRefused() {
    BearerTokens tokens =
        new BearerTokens(Duration.ofHours(1), BearerTokens.newKey(), Clock.systemUTC());
    String token = tokens.issue("alice");
    String[] parts = token.split("\\.");
    // Another user, or a later expiry, under the same signature.
    String otherUser =
        String.join(
            ".",
            parts[0],
            java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("admin".getBytes()),
            parts[2],
            parts[3],
            parts[4]);
    String later =
        String.join(
            ".",
            parts[0],
            parts[1],
            Long.toString(Long.parseLong(parts[2]) + 1),
            parts[3],
            parts[4]);
    assertThat(tokens.check(otherUser)).isEqualTo(new BearerTokens.Check.Unknown());
    assertThat(tokens.check(later)).isEqualTo(new BearerTokens.Check.Unknown());
  }

  @Test
  void aShortKeyIsRefused() {
    assertThatThrownBy(() -> new BearerTokens(Duration.ofHours(1), new byte[16], Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A token key needs at least 32 bytes, not 16");
  }
}
