package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

/**
 * One configuration key: its dashed, grouped name, its default as text, and what it means.
 *
 * @param name the key, e.g. {@code memory.query-limit}
 * @param defaultValue the default as it would be written in a properties file
 * @param description one line for {@code --help} and the README
 */
public record ConfigKey(String name, String defaultValue, String description) {
  public ConfigKey {
    requireNonNull(name, "name is null");
    requireNonNull(defaultValue, "defaultValue is null");
    requireNonNull(description, "description is null");
  }

  /** The environment variable that sets this key: QUIVER_ and the name in upper snake case. */
  public String envName() {
    return "QUIVER_" + name.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
  }
}
