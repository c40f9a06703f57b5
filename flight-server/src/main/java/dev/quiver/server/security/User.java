package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * One entry of the users file: a name, a password hash and the rights granted per namespace.
 *
 * @param name the user name, as clients send it
 * @param password the salted, slow hash of the password
 * @param grants namespace (or {@value #ALL_NAMESPACES} for every namespace) to the rights granted
 *     there; a namespace's rights are its own grant's and the {@code *} grant's together
 */
public record User(String name, PasswordHash password, Map<String, Set<Right>> grants) {
  /** The grant that applies to every namespace. */
  public static final String ALL_NAMESPACES = "*";

  public User {
    requireNonNull(name, "name is null");
    requireNonNull(password, "password is null");
    grants = Map.copyOf(requireNonNull(grants, "grants is null"));
    grants.values().forEach(rights -> requireNonNull(rights, "rights is null"));
  }

  /** Whether this user holds {@code right} in {@code namespace}. */
  public boolean may(Right right, String namespace) {
    return holds(ALL_NAMESPACES, right) || holds(namespace, right);
  }

  private boolean holds(String namespace, Right right) {
    Set<Right> rights = grants.get(namespace);
    return rights != null && rights.contains(right);
  }

  /** The rights as the users file writes them, for messages; never the password. */
  @Override
  public String toString() {
    return "User{" + name + ", grants=" + grants + "}";
  }

  static Set<Right> rights(String commaSeparated) {
    Set<Right> rights = EnumSet.noneOf(Right.class);
    for (String part : commaSeparated.split(",")) {
      if (!part.isBlank()) {
        rights.add(Right.parse(part));
      }
    }
    return Set.copyOf(rights);
  }
}
