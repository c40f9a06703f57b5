package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.config.SecuritySettings;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.telemetry.StatusAccess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's security set-up from {@code security.*}: the authenticator and access control when
 * there is a users file, TLS (and mutual TLS) when there is a certificate, and the safe default
 * that keeps a server without authentication on loopback.
 */
public final class ServerSecurity {
  private static final Logger LOG = LoggerFactory.getLogger(ServerSecurity.class);

  private final SecuritySettings settings;
  private final Optional<PasswordAuthenticator> authenticator;
  private final AccessControl access;

  private ServerSecurity(
      SecuritySettings settings,
      Optional<PasswordAuthenticator> authenticator,
      AccessControl access) {
    this.settings = settings;
    this.authenticator = authenticator;
    this.access = access;
  }

  /**
   * Checks and loads what {@code config} asks for.
   *
   * @throws IllegalArgumentException when the server would listen beyond loopback without
   *     authentication and without the opt-in, or the users file or a TLS file is missing or
   *     malformed
   */
  public static ServerSecurity of(ServerConfig config) {
    return of(config, BearerTokens.newKey());
  }

  /**
   * As {@link #of(ServerConfig)}, signing bearer tokens with {@code tokenKey}: the key every node
   * of the cluster shares, so a token one node issued is accepted by all.
   */
  public static ServerSecurity of(ServerConfig config, byte[] tokenKey) {
    SecuritySettings settings = requireNonNull(config, "config is null").security();
    for (Optional<Path> file :
        java.util.List.of(settings.tlsCertificate(), settings.tlsKey(), settings.tlsClientCa())) {
      file.ifPresent(ServerSecurity::requireReadable);
    }
    if (!settings.authEnabled()) {
      boolean loopback = isLoopback(config.flight().host());
      if (!loopback && !settings.allowUnauthenticatedRemote()) {
        throw new IllegalArgumentException(
            "Refusing to listen on "
                + config.flight().host()
                + " without authentication: anyone who can reach it could read, write and drop"
                + " every table. Set security.users-file, or set"
                + " security.allow-unauthenticated-remote=true to accept that.");
      }
      if (config.rest().enabled()
          && !isLoopback(config.rest().host())
          && !settings.allowUnauthenticatedRemote()) {
        throw new IllegalArgumentException(
            "Refusing to serve the Iceberg REST catalog on "
                + config.rest().host()
                + " (catalog.rest-host) without authentication: anyone who can reach it could"
                + " change and drop every table. Set security.users-file, or set"
                + " security.allow-unauthenticated-remote=true to accept that.");
      }
      if (!loopback) {
        LOG.warn(
            "SECURITY: listening on {} WITHOUT AUTHENTICATION"
                + " (security.allow-unauthenticated-remote=true): anyone who can reach this port"
                + " can read, write and drop every table",
            config.flight().host());
      }
      return new ServerSecurity(settings, Optional.empty(), AccessControl.OPEN);
    }
    Path file = settings.usersFile().get();
    requireReadable(file);
    UsersFile users;
    try {
      users = UsersFile.load(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "Cannot read security.users-file " + file + ": " + e.getMessage(), e);
    }
    if (!settings.tlsEnabled()) {
      LOG.warn(
          "Authentication without TLS: passwords and bearer tokens cross the network in clear"
              + " text; set security.tls-cert and security.tls-key");
    }
    LOG.info("Authentication on: {} users from {}", users.size(), file);
    BearerTokens tokens = new BearerTokens(settings.tokenLifetime(), tokenKey, Clock.systemUTC());
    return new ServerSecurity(
        settings,
        Optional.of(
            new PasswordAuthenticator(
                users,
                tokens,
                new LoginThrottle(
                    settings.loginMaxFailures(), settings.loginLockout(), Clock.systemUTC()))),
        AccessControl.of(users));
  }

  /** Whether clients must log in (there is a users file), so bearer tokens are issued. */
  public boolean authenticates() {
    return authenticator.isPresent();
  }

  /**
   * The password and token checks of Flight logins, for the REST catalog's bearer tokens and its
   * OAuth2 token endpoint; empty without authentication.
   */
  public Optional<PasswordAuthenticator> passwords() {
    return authenticator;
  }

  /** How long the bearer tokens this server issues are valid. */
  public java.time.Duration tokenLifetime() {
    return settings.tokenLifetime();
  }

  /** The server's TLS certificate chain and private key (PEM), when TLS is on. */
  public Optional<TlsFiles> tls() {
    return settings.tlsEnabled()
        ? Optional.of(
            new TlsFiles(
                settings.tlsCertificate().get(), settings.tlsKey().get(), settings.tlsClientCa()))
        : Optional.empty();
  }

  /**
   * A PEM certificate chain, its PKCS#8 private key and, for mutual TLS, the PEM certificates of
   * the CA that signs client certificates.
   */
  public record TlsFiles(Path certificate, Path key, Optional<Path> clientCa) {
    public TlsFiles {
      requireNonNull(certificate, "certificate is null");
      requireNonNull(key, "key is null");
      requireNonNull(clientCa, "clientCa is null");
    }
  }

  /** Who may do what; {@link AccessControl#OPEN} without authentication. */
  public AccessControl access() {
    return access;
  }

  /**
   * Who may see the telemetry status page: everyone without authentication; with it, a user with
   * admin on {@code *}, by HTTP Basic (the users file) or a bearer token from a Flight login.
   */
  public StatusAccess statusAccess() {
    if (authenticator.isEmpty()) {
      return StatusAccess.OPEN;
    }
    PasswordAuthenticator passwords = authenticator.get();
    VerifiedLogins verified = new VerifiedLogins(settings.tokenLifetime(), Clock.systemUTC());
    return authorization ->
        verified
            .user(authorization, passwords::userOf)
            .map(
                user ->
                    access.may(user, Right.ADMIN, User.ALL_NAMESPACES)
                        ? StatusAccess.Decision.ALLOWED
                        : StatusAccess.Decision.FORBIDDEN)
            .orElse(StatusAccess.Decision.UNAUTHENTICATED);
  }

  /** The Flight location of {@code host}:{@code port}, grpc+tls when TLS is on. */
  public Location location(String host, int port) {
    return settings.tlsEnabled()
        ? Location.forGrpcTls(host, port)
        : Location.forGrpcInsecure(host, port);
  }

  /** Adds the authenticator and TLS to {@code builder}. */
  public void configure(FlightServer.Builder builder) throws IOException {
    authenticator.ifPresent(builder::headerAuthenticator);
    if (settings.tlsEnabled()) {
      builder.useTls(settings.tlsCertificate().get().toFile(), settings.tlsKey().get().toFile());
      if (settings.tlsClientCa().isPresent()) {
        builder.useMTlsClientVerification(settings.tlsClientCa().get().toFile());
      }
    }
  }

  static boolean isLoopback(String host) {
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static void requireReadable(Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("Cannot read " + file + ": no such readable file");
    }
  }
}
