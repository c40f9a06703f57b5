package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A salted, slow password hash as the users file stores it: PBKDF2 with HMAC-SHA256 from the JDK,
 * written {@code pbkdf2-sha256:<iterations>:<salt, base64>:<hash, base64>}.
 *
 * <p>Passwords are never stored or compared in plain text; {@link #matches} compares in constant
 * time. Instances are immutable and thread-safe.
 *
 * @param iterations PBKDF2 iterations, at least {@value #MIN_ITERATIONS}
 * @param salt the random salt, 16 bytes or more
 * @param hash the derived key, 32 bytes
 */
public record PasswordHash(int iterations, byte[] salt, byte[] hash) {
  /** What {@link #create(char[])} uses: OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
  public static final int DEFAULT_ITERATIONS = 600_000;

  /** The fewest iterations a users file may name; below this a stolen file is cheap to crack. */
  public static final int MIN_ITERATIONS = 10_000;

  private static final String SCHEME = "pbkdf2-sha256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final SecureRandom RANDOM = new SecureRandom();

  public PasswordHash {
    requireNonNull(salt, "salt is null");
    requireNonNull(hash, "hash is null");
    if (iterations < MIN_ITERATIONS) {
      throw new IllegalArgumentException(
          "A password hash needs at least " + MIN_ITERATIONS + " iterations, not " + iterations);
    }
    if (salt.length < SALT_BYTES || hash.length != HASH_BITS / 8) {
      throw new IllegalArgumentException("A password hash needs a 16-byte salt and a 32-byte hash");
    }
    salt = salt.clone();
    hash = hash.clone();
  }

  /** Hashes {@code password} with a fresh salt and {@link #DEFAULT_ITERATIONS}. */
  public static PasswordHash create(char[] password) {
    return create(password, DEFAULT_ITERATIONS);
  }

  /** Hashes {@code password} with a fresh salt and {@code iterations}. */
  public static PasswordHash create(char[] password, int iterations) {
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    return new PasswordHash(iterations, salt, derive(password, salt, iterations));
  }

  /** Reads the form {@link #toString()} writes; the message never repeats the text. */
  public static PasswordHash parse(String text) {
    String[] parts = requireNonNull(text, "text is null").split(":", -1);
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      throw new IllegalArgumentException(
          "A password hash reads " + SCHEME + ":<iterations>:<salt>:<hash>");
    }
    int iterations;
    byte[] salt;
    byte[] hash;
    try {
      Base64.Decoder base64 = Base64.getDecoder();
      iterations = Integer.parseInt(parts[1]);
      salt = base64.decode(parts[2]);
      hash = base64.decode(parts[3]);
    } catch (IllegalArgumentException e) { // NumberFormatException too
      throw new IllegalArgumentException("Malformed password hash: " + e.getMessage(), e);
    }
    return new PasswordHash(iterations, salt, hash);
  }

  /** Whether {@code password} hashes to this hash; takes as long whether it does or not. */
  public boolean matches(char[] password) {
    return MessageDigest.isEqual(hash, derive(password, salt, iterations));
  }

  private static byte[] derive(char[] password, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("The JDK lacks PBKDF2WithHmacSHA256", e);
    } finally {
      spec.clearPassword();
    }
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] hash() {
    return hash.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PasswordHash other
        && iterations == other.iterations
        && Arrays.equals(salt, other.salt)
        && Arrays.equals(hash, other.hash);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * iterations + Arrays.hashCode(salt)) + Arrays.hashCode(hash);
  }

  /** The users-file form: {@code pbkdf2-sha256:<iterations>:<salt>:<hash>}. */
  @Override
  public String toString() {
    Base64.Encoder base64 = Base64.getEncoder();
    return SCHEME
        + ":"
        + iterations
        + ":"
        + base64.encodeToString(salt)
        + ":"
        + base64.encodeToString(hash);
  }
}
