package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.security.AccessControl;
import dev.quiver.server.security.PasswordAuthenticator;
import dev.quiver.server.security.Right;
import dev.quiver.server.security.ServerSecurity;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.rest.responses.OAuthTokenResponse;

/**
 * Who a REST call is and what it may do: the bearer tokens Flight logins issue (any node's, as the
 * cluster shares the signing key), the OAuth2 client-credentials exchange of a user name and
 * password for one (the same password check and login throttle as a Flight login), and the users
 * file's namespace grants. Without a users file every call is allowed. Thread-safe.
 */
final class RestAccess {
  /** The user of calls to a server without authentication. */
  static final String ANONYMOUS = "anonymous";

  static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

  private static final String CLIENT_CREDENTIALS = "client_credentials";
  private static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

  private final Optional<PasswordAuthenticator> passwords;
  private final AccessControl access;
  private final int tokenSeconds;

  RestAccess(ServerSecurity security) {
    requireNonNull(security, "security is null");
    this.passwords = security.passwords();
    this.access = security.access();
    this.tokenSeconds = (int) Math.min(Integer.MAX_VALUE, security.tokenLifetime().toSeconds());
  }

  /** Whether calls need a bearer token. */
  boolean authenticates() {
    return passwords.isPresent();
  }

  /**
   * The user whose bearer token {@code authorization} (the Authorization header) carries.
   *
   * @throws RestException 401 when authentication is on and the token is missing, expired or not
   *     valid
   */
  String user(String authorization) {
    if (passwords.isEmpty()) {
      return ANONYMOUS;
    }
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new RestException(
          RestError.unauthenticated(
              "Authentication required: send Authorization: Bearer <token>, from POST"
                  + " /v1/oauth/tokens or a Flight login"));
    }
    try {
      return passwords.get().tokenUser(authorization.substring(7).trim());
    } catch (FlightRuntimeException refused) {
      throw new RestException(RestError.unauthenticated(refused.status().description()));
    }
  }

  /** Whether {@code user} holds {@code right} in {@code namespace}. */
  boolean may(String user, Right right, Namespace namespace) {
    return access.may(user, right, grantName(namespace));
  }

  /**
   * Fails the call with 403 naming the user, the right and the namespace unless {@code user} holds
   * {@code right} in {@code namespace}.
   */
  void check(String user, Right right, Namespace namespace) {
    if (!may(user, right, namespace)) {
      throw new RestException(
          RestError.forbidden(
              String.format(
                  "User %s lacks %s on namespace %s", user, right.label(), grantName(namespace))));
    }
  }

  /**
   * Answers an OAuth2 token request (RFC 6749, form-encoded) with a new bearer token. The user name
   * and password come as {@code client_id} and {@code client_secret} (what Iceberg's RESTCatalog
   * sends for {@code credential=user:password}) or in an HTTP Basic {@code authorization} header.
   * Grants: client credentials, and token exchange (what Iceberg's client sends to refresh a token)
   * only with the password as well, so a token alone never buys a longer-lived one.
   */
  Answer token(Map<String, String> form, String authorization) {
    if (passwords.isEmpty()) {
      return Answer.error(
          400,
          "invalid_request",
          "This server does not authenticate (security.users-file is not set): connect without"
              + " a credential");
    }
    String grant = form.get("grant_type");
    if (!CLIENT_CREDENTIALS.equals(grant) && !TOKEN_EXCHANGE.equals(grant)) {
      return Answer.error(
          400,
          "unsupported_grant_type",
          "Use grant_type=client_credentials (or token exchange with the password), not " + grant);
    }
    String user = form.get("client_id");
    String secret = form.get("client_secret");
    if ((user == null || secret == null) && authorization != null) {
      String[] basic = basic(authorization);
      if (basic != null) {
        user = basic[0];
        secret = basic[1];
      }
    }
    if (user == null || user.isEmpty() || secret == null) {
      return Answer.error(
          400,
          "invalid_request",
          TOKEN_EXCHANGE.equals(grant)
              ? "A token exchange needs the password too (HTTP Basic); log in again"
              : "Send client_id (the user name) and client_secret (the password)");
    }
    char[] password = secret.toCharArray();
    try {
      String token = passwords.get().login(user, password);
      return new Answer(
          200,
          OAuthTokenResponse.builder()
              .withToken(token)
              .withTokenType("bearer")
              .withIssuedTokenType(ACCESS_TOKEN_TYPE)
              .setExpirationInSeconds(tokenSeconds)
              .build());
    } catch (FlightRuntimeException refused) {
      return Answer.error(401, "invalid_client", refused.status().description());
    } finally {
      Arrays.fill(password, '\0');
    }
  }

  /** The user name and password of a {@code Basic} authorization header, or null. */
  private static String[] basic(String authorization) {
    if (!authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String text;
    try {
      text =
          new String(
              Base64.getDecoder().decode(authorization.substring(6).trim()),
              StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      return null;
    }
    int colon = text.indexOf(':');
    if (colon < 0) {
      return null;
    }
    return new String[] {text.substring(0, colon), text.substring(colon + 1)};
  }

  /** A token endpoint answer: a status and its JSON body. */
  record Answer(int code, Object body) {
    static Answer error(int code, String error, String description) {
      return new Answer(code, Map.of("error", error, "error_description", description));
    }
  }

  /** The namespace name grants use: Quiver namespaces have one level. */
  private static String grantName(Namespace namespace) {
    return namespace.length() == 1 ? namespace.level(0) : namespace.toString();
  }
}
