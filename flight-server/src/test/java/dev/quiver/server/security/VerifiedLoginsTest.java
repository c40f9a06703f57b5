package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The status page's polls cost one password check per login, not one per poll. */
class VerifiedLoginsTest {
  @Test
  void aHeaderThatPassedIsRememberedForTheLifetimeAndAWrongOneNever() {
    ManualClock clock = new ManualClock();
    VerifiedLogins logins = new VerifiedLogins(Duration.ofMinutes(10), clock);
    AtomicInteger checks = new AtomicInteger();
    Function<String, Optional<String>> check =
        header -> {
          checks.incrementAndGet();
          return header.equals("Basic good") ? Optional.of("ops") : Optional.empty();
        };
    for (int i = 0; i < 5; i++) {
      assertThat(logins.user("Basic good", check)).contains("ops");
      assertThat(logins.user("Basic bad", check)).isEmpty();
    }
    assertThat(checks).as("one check for the good header, five for the bad").hasValue(6);
    clock.advance(Duration.ofMinutes(10));
    assertThat(logins.user("Basic good", check)).contains("ops");
    assertThat(checks).as("checked again after the lifetime").hasValue(7);
    assertThat(logins.user(null, check)).isEmpty();
  }
}
