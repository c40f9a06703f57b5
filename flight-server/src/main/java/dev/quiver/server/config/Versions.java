package dev.quiver.server.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The versions of Quiver and of the libraries it serves with, as their jars declare them. */
public final class Versions {
  private Versions() {}

  /** The Implementation-Version of the jar that holds {@code type}, or "dev" outside a jar. */
  public static String of(Class<?> type) {
    String version = type.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  /**
   * Iceberg's version, from the build properties iceberg-core carries (its jars declare no
   * Implementation-Version); "unknown" if they are missing.
   */
  public static String iceberg() {
    try (InputStream in =
        org.apache.iceberg.Table.class
            .getClassLoader()
            .getResourceAsStream("iceberg-build.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("git.build.version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
