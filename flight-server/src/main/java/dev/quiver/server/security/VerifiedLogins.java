package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Remembers HTTP {@code Authorization} headers that passed, for the token lifetime, so that the
 * status page, which polls every second with the browser's Basic credentials, costs one slow
 * password hash per login rather than one per poll. Only a SHA-256 of the header is kept; a wrong
 * header is never remembered, so the login throttle still sees every failure. Thread-safe.
 */
final class VerifiedLogins {
  /** The most headers remembered; past it the memory is emptied (a few logins hash again). */
  static final int MAX = 1000;

  private record Verified(String user, Instant expires) {}

  private final Duration lifetime;
  private final Clock clock;
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();

  VerifiedLogins(Duration lifetime, Clock clock) {
    this.lifetime = requireNonNull(lifetime, "lifetime is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** The user {@code authorization} stands for: remembered, or checked by {@code check}. */
  Optional<String> user(String authorization, Function<String, Optional<String>> check) {
    if (authorization == null) {
      return Optional.empty();
    }
    String key = sha256(authorization);
    Instant now = clock.instant();
    Verified known = verified.get(key);
    if (known != null && now.isBefore(known.expires())) {
      return Optional.of(known.user());
    }
    Optional<String> user = check.apply(authorization);
    if (user.isPresent()) {
      if (verified.size() >= MAX) {
        verified.clear();
      }
      verified.put(key, new Verified(user.get(), now.plus(lifetime)));
    } else if (known != null) {
      verified.remove(key);
    }
    return user;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
  }
}
