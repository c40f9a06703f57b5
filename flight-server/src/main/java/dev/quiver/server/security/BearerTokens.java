package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bearer tokens the server has issued, each naming its user and expiring a fixed time after it
 * was issued (not after its last use: a stolen token stops working on schedule).
 *
 * <p>Tokens are 32 random bytes, URL-safe base64, held only in memory: a restart signs everyone
 * out. At most {@code maxTokens} live tokens are kept; past that, expired ones are dropped and, if
 * none are, the oldest. Thread-safe.
 */
public final class BearerTokens {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Duration lifetime;
  private final int maxTokens;
  private final Clock clock;
  private final Map<String, Issued> tokens = new ConcurrentHashMap<>();

  private record Issued(String user, Instant expires) {}

  /** What a bearer token check found: the user, or why there is none. */
  public sealed interface Check {
    /** A live token of {@code user}. */
    record Valid(String user) implements Check {}

    /** A token the server issued but which has expired. */
    record Expired() implements Check {}

    /** A token the server never issued (or forgot, e.g. across a restart). */
    record Unknown() implements Check {}
  }

  public BearerTokens(Duration lifetime, int maxTokens, Clock clock) {
    this.lifetime = requireNonNull(lifetime, "lifetime is null");
    this.clock = requireNonNull(clock, "clock is null");
    if (lifetime.isNegative() || lifetime.isZero() || maxTokens < 1) {
      throw new IllegalArgumentException("Token lifetime and count must be positive");
    }
    this.maxTokens = maxTokens;
  }

  /** Issues a new token for {@code user}. */
  public String issue(String user) {
    requireNonNull(user, "user is null");
    if (tokens.size() >= maxTokens) {
      evict();
    }
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tokens.put(token, new Issued(user, clock.instant().plus(lifetime)));
    return token;
  }

  /** What {@code token} is. An expired token is forgotten once reported. */
  public Check check(String token) {
    Issued issued = tokens.get(token);
    if (issued == null) {
      return new Check.Unknown();
    }
    if (!clock.instant().isBefore(issued.expires())) {
      tokens.remove(token, issued);
      return new Check.Expired();
    }
    return new Check.Valid(issued.user());
  }

  /** How many tokens are held (live or not yet noticed to have expired). */
  public int size() {
    return tokens.size();
  }

  private void evict() {
    Instant now = clock.instant();
    tokens.entrySet().removeIf(e -> !now.isBefore(e.getValue().expires()));
    while (tokens.size() >= maxTokens) {
      Optional<Map.Entry<String, Issued>> oldest =
          tokens.entrySet().stream()
              .min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Issued::expires)));
      if (oldest.isEmpty()) {
        return;
      }
      tokens.remove(oldest.get().getKey());
    }
  }
}
