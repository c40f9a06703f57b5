package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A table's identity: a namespace and a name, both matching {@code [A-Za-z_][A-Za-z0-9_]{0,127}}.
 *
 * <p>The pattern keeps names safe as folder names and SQL identifiers; nothing else is accepted.
 */
public record TableId(String namespace, String name) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  public TableId {
    requireNonNull(namespace, "namespace is null");
    requireNonNull(name, "name is null");
    checkName("namespace", namespace);
    checkName("table name", name);
  }

  /** The id of {@code namespace.name}. */
  public static TableId of(String namespace, String name) {
    return new TableId(namespace, name);
  }

  /** The id named by a Flight path descriptor, which must have exactly two parts. */
  public static TableId fromPath(List<String> path) {
    if (path == null || path.size() != 2) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_NAME,
          "A table path has two parts, namespace and table, but got %s",
          path);
    }
    return new TableId(path.get(0), path.get(1));
  }

  /** The two-part Flight path of this table. */
  public List<String> path() {
    return List.of(namespace, name);
  }

  /** Whether {@code value} is a valid namespace or table name. */
  public static boolean isValidName(String value) {
    return value != null && NAME.matcher(value).matches();
  }

  private static void checkName(String what, String value) {
    if (!NAME.matcher(value).matches()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_NAME,
          "Invalid %s '%s': names match [A-Za-z_][A-Za-z0-9_]{0,127}",
          what,
          value.length() > 200 ? value.substring(0, 200) + "..." : value);
    }
  }

  @Override
  public String toString() {
    return namespace + "." + name;
  }
}
