package dev.quiver.server.security;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.util.Optional;

/**
 * Decides whether the user of a call may do something in a namespace: the per-user read, write and
 * admin grants of the {@link UsersFile}.
 *
 * <p>{@link #OPEN} (no users file, no authentication) allows everything. With a users file, a user
 * the file does not name holds no rights. Thread-safe.
 */
public final class AccessControl {
  /** No authentication: every call may do everything. */
  public static final AccessControl OPEN = new AccessControl(Optional.empty());

  private final Optional<UsersFile> users;

  private AccessControl(Optional<UsersFile> users) {
    this.users = users;
  }

  /** Grants as {@code users} says. */
  public static AccessControl of(UsersFile users) {
    return new AccessControl(Optional.of(users));
  }

  /** Whether calls are checked at all (a users file is configured). */
  public boolean enabled() {
    return users.isPresent();
  }

  /** Whether {@code user} holds {@code right} in {@code namespace}. */
  public boolean may(String user, Right right, String namespace) {
    return users.isEmpty()
        || users.get().user(user).map(u -> u.may(right, namespace)).orElse(false);
  }

  /**
   * Fails with PERMISSION_DENIED naming the user, the namespace and the right unless {@code user}
   * holds {@code right} in {@code namespace}.
   */
  public void check(String user, Right right, String namespace) {
    if (!may(user, right, namespace)) {
      throw new QuiverException(
          QuiverErrorCode.PERMISSION_DENIED,
          "User %s lacks %s on namespace %s",
          user,
          right.label(),
          namespace);
    }
  }

  /**
   * Fails with PERMISSION_DENIED unless {@code user} holds {@code right} on every namespace (a
   * {@code *} grant): what server-wide operations such as {@code operation} need.
   */
  public void checkServer(String user, Right right, String operation) {
    if (!may(user, right, User.ALL_NAMESPACES)) {
      throw new QuiverException(
          QuiverErrorCode.PERMISSION_DENIED,
          "User %s lacks %s on all namespaces (*), which %s needs",
          user,
          right.label(),
          operation);
    }
  }
}
