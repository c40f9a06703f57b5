package dev.quiver.server.config;

/** The versions of Quiver and of the libraries it serves with, as their jars declare them. */
public final class Versions {
  private Versions() {}

  /** The Implementation-Version of the jar that holds {@code type}, or "dev" outside a jar. */
  public static String of(Class<?> type) {
    String version = type.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
