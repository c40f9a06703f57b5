package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code security.*} part of {@link ServerConfig}: authentication, TLS and the opt-in that lets
 * an unauthenticated server listen beyond loopback.
 *
 * @param usersFile the users file (names, password hashes, grants); empty means no authentication
 * @param tokenLifetime how long a bearer token is valid after it is issued
 * @param tlsCertificate the server's PEM certificate chain; empty means no TLS
 * @param tlsKey the server's PEM private key (PKCS#8); present exactly when the certificate is
 * @param tlsClientCa PEM certificates of the CA that signs client certificates; present means
 *     mutual TLS (clients without a certificate it signed are refused)
 * @param allowUnauthenticatedRemote whether a server without authentication may bind an address
 *     other than loopback
 * @param loginMaxFailures failed logins in a row one user name may have before it is locked (0:
 *     never)
 * @param loginLockout the longest such a lock lasts (locks grow 1 s, 2 s, 4 s, ...)
 */
public record SecuritySettings(
    Optional<Path> usersFile,
    Duration tokenLifetime,
    Optional<Path> tlsCertificate,
    Optional<Path> tlsKey,
    Optional<Path> tlsClientCa,
    boolean allowUnauthenticatedRemote,
    int loginMaxFailures,
    Duration loginLockout) {
  /** No authentication, no TLS, loopback only, one-hour tokens, 5 failed logins then locks. */
  public static final SecuritySettings DEFAULTS =
      new SecuritySettings(
          Optional.empty(),
          Duration.ofHours(1),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          false,
          5,
          Duration.ofMinutes(15));

  public SecuritySettings {
    requireNonNull(usersFile, "usersFile is null");
    requireNonNull(tokenLifetime, "tokenLifetime is null");
    requireNonNull(tlsCertificate, "tlsCertificate is null");
    requireNonNull(tlsKey, "tlsKey is null");
    requireNonNull(tlsClientCa, "tlsClientCa is null");
    requireNonNull(loginLockout, "loginLockout is null");
    if (loginMaxFailures < 0) {
      throw new IllegalArgumentException(
          "security.login-max-failures must not be negative: " + loginMaxFailures);
    }
    if (loginLockout.toMillis() < 1000) {
      throw new IllegalArgumentException(
          "security.login-lockout must be at least 1s: " + loginLockout);
    }
    if (tokenLifetime.isNegative() || tokenLifetime.isZero()) {
      throw new IllegalArgumentException("Token lifetime must be positive: " + tokenLifetime);
    }
    if (tlsCertificate.isPresent() != tlsKey.isPresent()) {
      throw new IllegalArgumentException(
          "security.tls-cert and security.tls-key go together: set both or neither");
    }
    if (tlsClientCa.isPresent() && tlsCertificate.isEmpty()) {
      throw new IllegalArgumentException(
          "security.tls-client-ca (mutual TLS) needs security.tls-cert and security.tls-key");
    }
  }

  /** Whether clients must authenticate. */
  public boolean authEnabled() {
    return usersFile.isPresent();
  }

  /** Whether the Flight port speaks TLS. */
  public boolean tlsEnabled() {
    return tlsCertificate.isPresent();
  }
}
