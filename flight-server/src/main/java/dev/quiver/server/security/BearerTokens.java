package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Bearer tokens that name their user and expire a fixed time after they were issued (not after
 * their last use: a stolen token stops working on schedule), signed with HMAC-SHA256.
 *
 * <p>A token is {@code v1.<user>.<expiry>.<nonce>.<signature>} (user, nonce and signature URL-safe
 * base64): it holds all a node needs to check it, so every node that has the same key accepts the
 * tokens any of them issued, also after a restart. The cluster's nodes share the key through the
 * catalog database ({@code dev.quiver.server.cluster.ClusterDatabase#tokenKey}). Tokens cannot be
 * revoked before they expire; keep {@code security.token-lifetime} short. Thread-safe.
 */
public final class BearerTokens {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String VERSION = "v1";
  private static final String HMAC = "HmacSHA256";
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  /** The shortest signing key accepted: 256 bits, HMAC-SHA256's own size. */
  public static final int MIN_KEY_BYTES = 32;

  private final Duration lifetime;
  private final SecretKeySpec key;
  private final Clock clock;

  /** What a bearer token check found: the user, or why there is none. */
  public sealed interface Check {
    /** A live token of {@code user}. */
    record Valid(String user) implements Check {}

    /** A token signed with this key but which has expired. */
    record Expired() implements Check {}

    /** A token this key never signed (forged, altered, from another cluster or malformed). */
    record Unknown() implements Check {}
  }

  /** Tokens signed with {@code key} (at least {@link #MIN_KEY_BYTES} bytes; copied). */
  public BearerTokens(Duration lifetime, byte[] key, Clock clock) {
    this.lifetime = requireNonNull(lifetime, "lifetime is null");
    this.clock = requireNonNull(clock, "clock is null");
    requireNonNull(key, "key is null");
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("Token lifetime must be positive: " + lifetime);
    }
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "A token key needs at least " + MIN_KEY_BYTES + " bytes, not " + key.length);
    }
    this.key = new SecretKeySpec(key.clone(), HMAC);
  }

  /** A new random key of {@link #MIN_KEY_BYTES} bytes. */
  public static byte[] newKey() {
    byte[] bytes = new byte[MIN_KEY_BYTES];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  /** Issues a new token for {@code user}. */
  public String issue(String user) {
    requireNonNull(user, "user is null");
    byte[] nonce = new byte[12];
    RANDOM.nextBytes(nonce);
    long expires = clock.instant().plus(lifetime).toEpochMilli();
    String body =
        VERSION
            + "."
            + ENCODER.encodeToString(user.getBytes(StandardCharsets.UTF_8))
            + "."
            + expires
            + "."
            + ENCODER.encodeToString(nonce);
    return body + "." + ENCODER.encodeToString(sign(body));
  }

  /** What {@code token} is. */
  public Check check(String token) {
    if (token == null || token.length() > 4096) {
      return new Check.Unknown();
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 5 || !parts[0].equals(VERSION)) {
      return new Check.Unknown();
    }
    String body = token.substring(0, token.lastIndexOf('.'));
    String user;
    long expires;
    try {
      byte[] signature = DECODER.decode(parts[4]);
      if (!MessageDigest.isEqual(signature, sign(body))) {
        return new Check.Unknown();
      }
      user = new String(DECODER.decode(parts[1]), StandardCharsets.UTF_8);
      expires = Long.parseLong(parts[2]);
    } catch (IllegalArgumentException malformed) {
      return new Check.Unknown();
    }
    if (!clock.instant().isBefore(Instant.ofEpochMilli(expires))) {
      return new Check.Expired();
    }
    return new Check.Valid(user);
  }

  private byte[] sign(String body) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(key);
      return mac.doFinal(body.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", e);
    }
  }
}
