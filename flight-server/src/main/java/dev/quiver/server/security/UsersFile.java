package dev.quiver.server.security;

import dev.quiver.client.TableId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The users the server accepts, read once at start from the users file.
 *
 * <p>The file has one user per line: the name, the password hash ({@link PasswordHash}, as {@code
 * quiver-server hash-password} prints it) and any number of grants {@code namespace=rights}, where
 * namespace is a namespace name or {@code *} and rights is a comma-separated list of read, write
 * and admin. Fields are separated by white space; blank lines and lines starting with {@code #} are
 * skipped:
 *
 * <pre>
 * # name   password hash                      grants
 * alice    pbkdf2-sha256:600000:c2FsdA==:...  sales=read,write  *=read
 * ops      pbkdf2-sha256:600000:...           *=read,write,admin
 * </pre>
 *
 * <p>Errors name the file and the line but never repeat a hash. Immutable and thread-safe.
 */
public final class UsersFile {
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,64}");

  private final Map<String, User> users;

  private UsersFile(Map<String, User> users) {
    this.users = Map.copyOf(users);
  }

  /** The users in {@code users}, for tests and embedding. */
  public static UsersFile of(List<User> users) {
    Map<String, User> byName = new LinkedHashMap<>();
    users.forEach(user -> byName.put(user.name(), user));
    return new UsersFile(byName);
  }

  /**
   * Reads {@code file}.
   *
   * @throws IllegalArgumentException naming the line of the first malformed entry
   * @throws IOException if the file cannot be read
   */
  public static UsersFile load(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, User> users = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = file + " line " + (i + 1);
      User user = parseLine(line, where);
      if (users.put(user.name(), user) != null) {
        throw new IllegalArgumentException(where + ": user " + user.name() + " appears twice");
      }
    }
    return new UsersFile(users);
  }

  private static User parseLine(String line, String where) {
    String[] fields = line.split("\\s+");
    if (fields.length < 2) {
      throw new IllegalArgumentException(where + ": expected a name, a password hash and grants");
    }
    if (!USER_NAME.matcher(fields[0]).matches()) {
      throw new IllegalArgumentException(
          where + ": user names match " + USER_NAME.pattern() + ", not '" + fields[0] + "'");
    }
    PasswordHash hash;
    try {
      hash = PasswordHash.parse(fields[1]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + " (user " + fields[0] + "): " + e.getMessage());
    }
    Map<String, Set<Right>> grants = new HashMap<>();
    for (int f = 2; f < fields.length; f++) {
      int eq = fields[f].indexOf('=');
      String namespace = eq < 0 ? fields[f] : fields[f].substring(0, eq);
      if (eq < 0 || !(namespace.equals(User.ALL_NAMESPACES) || TableId.isValidName(namespace))) {
        throw new IllegalArgumentException(
            where + ": a grant reads namespace=rights (namespace or *), not '" + fields[f] + "'");
      }
      try {
        grants.merge(
            namespace,
            User.rights(fields[f].substring(eq + 1)),
            (a, b) -> {
              Set<Right> both = new java.util.HashSet<>(a);
              both.addAll(b);
              return Set.copyOf(both);
            });
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage());
      }
    }
    return new User(fields[0], hash, grants);
  }

  /** The user called {@code name}, if any. */
  public Optional<User> user(String name) {
    return Optional.ofNullable(users.get(name));
  }

  /** How many users there are. */
  public int size() {
    return users.size();
  }
}
