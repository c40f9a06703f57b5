package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.auth2.Auth2Constants;
import org.apache.arrow.flight.auth2.AuthUtilities;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flight's header authentication for Quiver: a {@code Basic} user name and password, checked
 * against the {@link UsersFile}, is exchanged for a {@code Bearer} token sent back in the {@code
 * authorization} header; every later call carries the token.
 *
 * <p>This is what pyarrow's {@code authenticate_basic_token}, the Flight SQL JDBC driver ({@code
 * user=} and {@code password=}) and Arrow Java's {@code authenticateBasicToken} do. Arrow's own
 * GeneratedBearerTokenAuthenticator was not used: its tokens expire after their last use (a Guava
 * cache's expireAfterAccess), so a stolen token lives as long as it is used, and it cannot tell an
 * expired token from a forged one in its error.
 *
 * <p>Every failure is UNAUTHENTICATED with a message that names neither the password nor the token.
 */
@ThreadSafe
public final class PasswordAuthenticator implements CallHeaderAuthenticator {
  private static final Logger LOG = LoggerFactory.getLogger(PasswordAuthenticator.class);

  /** Checked for unknown users, so a wrong name costs as long as a wrong password. */
  private static final PasswordHash DECOY =
      PasswordHash.create("decoy".toCharArray(), PasswordHash.DEFAULT_ITERATIONS);

  private final UsersFile users;
  private final BearerTokens tokens;
  private final LoginThrottle throttle;

  public PasswordAuthenticator(UsersFile users, BearerTokens tokens) {
    this(users, tokens, LoginThrottle.NONE);
  }

  /** With {@code throttle} slowing repeated failed logins of one name. */
  public PasswordAuthenticator(UsersFile users, BearerTokens tokens, LoginThrottle throttle) {
    this.users = requireNonNull(users, "users is null");
    this.tokens = requireNonNull(tokens, "tokens is null");
    this.throttle = requireNonNull(throttle, "throttle is null");
  }

  @Override
  public AuthResult authenticate(CallHeaders headers) {
    String bearer = AuthUtilities.getValueFromAuthHeader(headers, Auth2Constants.BEARER_PREFIX);
    if (bearer != null) {
      return result(checkToken(bearer), Optional.empty());
    }
    String basic = AuthUtilities.getValueFromAuthHeader(headers, Auth2Constants.BASIC_PREFIX);
    if (basic != null) {
      String user = checkPassword(basic);
      return result(user, Optional.of(tokens.issue(user)));
    }
    throw unauthenticated(
        "Authentication required: send a user name and password (Basic) or a bearer token");
  }

  /**
   * The user an HTTP {@code Authorization} header ({@code Basic user:password} or {@code Bearer
   * token}) stands for, checked as a Flight call's; empty when it is absent or wrong.
   */
  public Optional<String> userOf(String authorization) {
    if (authorization == null) {
      return Optional.empty();
    }
    try {
      if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return Optional.of(checkToken(authorization.substring(7).trim()));
      }
      if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
        return Optional.of(checkPassword(authorization.substring(6)));
      }
    } catch (FlightRuntimeException refused) {
      // wrong credentials: no user
    }
    return Optional.empty();
  }

  private String checkToken(String bearer) {
    BearerTokens.Check check = tokens.check(bearer);
    if (check instanceof BearerTokens.Check.Valid valid) {
      return valid.user();
    }
    if (check instanceof BearerTokens.Check.Expired) {
      throw unauthenticated("The bearer token has expired; authenticate again");
    }
    throw unauthenticated(
        "The bearer token is not valid (altered, or signed by another cluster); authenticate again");
  }

  private String checkPassword(String basic) {
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(basic.trim());
    } catch (IllegalArgumentException e) {
      throw unauthenticated("The Basic authorization header is not base64");
    }
    CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(decoded));
    char[] text = new char[chars.remaining()];
    chars.get(text);
    if (chars.hasArray()) {
      Arrays.fill(chars.array(), '\0');
    }
    Arrays.fill(decoded, (byte) 0);
    try {
      int colon = indexOf(text, ':');
      if (colon < 0) {
        throw unauthenticated("The Basic authorization header must hold user:password");
      }
      String name = new String(text, 0, colon);
      char[] password = Arrays.copyOfRange(text, colon + 1, text.length);
      try {
        return checkPassword(name, password);
      } finally {
        Arrays.fill(password, '\0');
      }
    } finally {
      Arrays.fill(text, '\0');
    }
  }

  /**
   * Checks {@code password} for user {@code name} as a Flight login does (the same throttle, the
   * same cost for unknown names) and issues a bearer token; the REST catalog's OAuth2 token
   * endpoint calls this. Does not clear {@code password}.
   *
   * @throws FlightRuntimeException UNAUTHENTICATED when the name is locked or the password wrong
   */
  public String login(String name, char[] password) {
    return tokens.issue(checkPassword(requireNonNull(name, "name is null"), password));
  }

  /**
   * The user of a bearer token, as a Flight call's token is checked.
   *
   * @throws FlightRuntimeException UNAUTHENTICATED, saying whether the token expired or is not
   *     valid
   */
  public String tokenUser(String token) {
    return checkToken(requireNonNull(token, "token is null"));
  }

  private String checkPassword(String name, char[] password) {
    if (!throttle.mayTry(name)) {
      LOG.info("Login for user '{}' refused: too many failed logins", printable(name));
      throw unauthenticated("Too many failed logins for this user name; try again later");
    }
    Optional<User> user = users.user(name);
    boolean matches;
    if (user.isPresent()) {
      matches = user.get().password().matches(password);
    } else {
      DECOY.matches(password);
      matches = false;
    }
    if (!matches) {
      throttle.failed(name);
      LOG.info("Failed login for user '{}'", printable(name));
      throw unauthenticated("Invalid user name or password");
    }
    throttle.succeeded(name);
    return name;
  }

  private static int indexOf(char[] text, char c) {
    for (int i = 0; i < text.length; i++) {
      if (text[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static String printable(String name) {
    String cut = name.length() > 64 ? name.substring(0, 64) : name;
    return cut.replaceAll("[^A-Za-z0-9_.@-]", "?");
  }

  private static AuthResult result(String user, Optional<String> newToken) {
    return new AuthResult() {
      @Override
      public String getPeerIdentity() {
        return user;
      }

      @Override
      public void appendToOutgoingHeaders(CallHeaders outgoing) {
        newToken.ifPresent(
            token ->
                outgoing.insert(
                    Auth2Constants.AUTHORIZATION_HEADER, Auth2Constants.BEARER_PREFIX + token));
      }
    };
  }

  private static FlightRuntimeException unauthenticated(String message) {
    return CallStatus.UNAUTHENTICATED.withDescription(message).toRuntimeException();
  }
}
