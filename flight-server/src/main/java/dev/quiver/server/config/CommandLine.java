package dev.quiver.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Parses the server's command line into configuration flags.
 *
 * <p>Accepts {@code --host}, {@code --port}, {@code --data-dir}, {@code --config FILE}, {@code
 * --help}, and any configuration key as {@code --key value} or {@code --key=value}.
 *
 * @param flags configuration keys set on the command line
 * @param configFile the properties file named by {@code --config}, if any
 * @param help whether {@code --help} was given
 */
public record CommandLine(Map<String, String> flags, Path configFile, boolean help) {
  private static final Map<String, String> SHORTHANDS =
      Map.of(
          "host", ServerConfig.HOST.name(),
          "port", ServerConfig.PORT.name(),
          "data-dir", ServerConfig.DATA_DIR.name());

  public CommandLine {
    flags = Map.copyOf(flags);
  }

  /** Parses {@code args}; throws IllegalArgumentException naming the bad argument. */
  public static CommandLine parse(List<String> args) {
    Map<String, String> flags = new LinkedHashMap<>();
    Path config = null;
    boolean help = false;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--help") || arg.equals("-h")) {
        help = true;
        continue;
      }
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new IllegalArgumentException("Unexpected argument '" + arg + "'; see --help");
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new IllegalArgumentException("Missing value for --" + name);
      }
      if (name.equals("config")) {
        config = Path.of(value);
      } else {
        flags.put(SHORTHANDS.getOrDefault(name, name), value);
      }
    }
    return new CommandLine(flags, config, help);
  }

  /** The properties in {@link #configFile}, or an empty map when there is none. */
  public Map<String, String> fileProperties() {
    if (configFile == null) {
      return Map.of();
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read config file " + configFile + ": " + e, e);
    }
    Map<String, String> map = new LinkedHashMap<>();
    properties.stringPropertyNames().forEach(k -> map.put(k, properties.getProperty(k)));
    return map;
  }

  /** The usage text: the flags and every key with its default and meaning. */
  public static String usage() {
    StringBuilder text =
        new StringBuilder(
            "Usage: quiver [--host H] [--port P] [--data-dir D] [--config FILE] [--key value ...]\n"
                + "       quiver hash-password [--iterations N]   (a users-file password hash)\n"
                + "Flags override QUIVER_* environment variables, which override the file.\n\n");
    for (ConfigKey key : ServerConfig.KEYS) {
      text.append(
          String.format("  %-28s %-14s %s%n", key.name(), key.defaultValue(), key.description()));
      text.append(String.format("  %-28s %-14s%n", "  env " + key.envName(), ""));
    }
    return text.toString();
  }
}
