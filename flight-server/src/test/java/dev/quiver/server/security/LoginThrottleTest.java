package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.FlightCallHeaders;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.auth2.Auth2Constants;
import org.junit.jupiter.api.Test;

/**
 * Failed logins lock a user name for a doubling while, known user or not, with the same answer, and
 * cost no password hash while locked; a successful login is untouched and clears the count. Time is
 * a {@link ManualClock}, so nothing here waits.
 */
class LoginThrottleTest {
  private static final String TOO_MANY = "Too many failed logins for this user name";

  @Test
  void aNameIsLockedAfterTooManyFailuresForADoublingWhileUpToTheMaximum() {
    ManualClock clock = new ManualClock();
    LoginThrottle throttle = new LoginThrottle(3, Duration.ofSeconds(5), clock);
    for (int i = 0; i < 3; i++) {
      assertThat(throttle.mayTry("alice")).isTrue();
      throttle.failed("alice");
    }
    assertThat(throttle.mayTry("alice")).as("the 3rd failure locks 1 s").isFalse();
    assertThat(throttle.mayTry("bob")).as("other names are not affected").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(throttle.mayTry("alice")).isTrue();
    throttle.failed("alice");
    clock.advance(Duration.ofMillis(1999));
    assertThat(throttle.mayTry("alice")).as("the 4th failure locks 2 s").isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(throttle.mayTry("alice")).isTrue();
    for (int i = 0; i < 10; i++) {
      throttle.failed("alice");
    }
    clock.advance(Duration.ofSeconds(5));
    assertThat(throttle.mayTry("alice")).as("never longer than the maximum").isTrue();
    throttle.succeeded("alice");
    throttle.failed("alice");
    assertThat(throttle.mayTry("alice")).as("a success starts the count again").isTrue();
  }

  @Test
  void zeroFailuresTurnsTheThrottleOff() {
    LoginThrottle throttle = new LoginThrottle(0, Duration.ofMinutes(15), new ManualClock());
    for (int i = 0; i < 100; i++) {
      throttle.failed("alice");
    }
    assertThat(throttle.mayTry("alice")).isTrue();
  }

  @Test
  void lockedLoginsAreRefusedAlikeForKnownAndUnknownUsersAndGoodLoginsAreUntouched()
      throws Exception {
    ManualClock clock = new ManualClock();
    UsersFile users =
        UsersFile.of(
            List.of(
                new User(
                    "alice",
                    PasswordHash.create("right".toCharArray(), PasswordHash.MIN_ITERATIONS),
                    Map.of("*", Set.of(Right.READ))),
                new User(
                    "carol",
                    PasswordHash.create("hers".toCharArray(), PasswordHash.MIN_ITERATIONS),
                    Map.of("*", Set.of(Right.READ)))));
    PasswordAuthenticator authenticator =
        new PasswordAuthenticator(
            users,
            new BearerTokens(Duration.ofHours(1), BearerTokens.newKey(), clock),
            new LoginThrottle(2, Duration.ofMinutes(1), clock));
    for (String name : List.of("alice", "nobody")) {
      for (int i = 0; i < 2; i++) {
        assertRefused(authenticator, name, "wrong", "Invalid user name or password");
      }
      // Locked: even the right password is refused, with the same words for a user that exists
      // and one that does not.
      assertRefused(authenticator, name, "right", TOO_MANY);
    }
    // Another user logs in meanwhile as always.
    assertThat(authenticator.authenticate(basic("carol", "hers")).getPeerIdentity())
        .isEqualTo("carol");
    clock.advance(Duration.ofSeconds(1));
    assertThat(authenticator.authenticate(basic("alice", "right")).getPeerIdentity())
        .isEqualTo("alice");
    // The success cleared alice's count: two more failures before the next lock.
    assertRefused(authenticator, "alice", "wrong", "Invalid user name or password");
    assertThat(authenticator.authenticate(basic("alice", "right")).getPeerIdentity())
        .isEqualTo("alice");
  }

  private static void assertRefused(
      PasswordAuthenticator authenticator, String user, String password, String message) {
    assertThatThrownBy(() -> authenticator.authenticate(basic(user, password)))
        .isInstanceOfSatisfying(
            FlightRuntimeException.class,
            e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAUTHENTICATED))
        .hasMessageContaining(message);
  }

  private static CallHeaders basic(String user, String password) {
    CallHeaders headers = new FlightCallHeaders();
    headers.insert(
        Auth2Constants.AUTHORIZATION_HEADER,
        Auth2Constants.BASIC_PREFIX
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    return headers;
  }
}
