package dev.quiver.server.config;

import java.util.Locale;
import java.util.Optional;

/** What decodes a DoGet's Parquet ({@code scan.engine}). */
public enum ScanEngine {
  /** Embedded DuckDB, pulled a batch at a time: about one batch per scan in memory. */
  DUCKDB("duckdb"),
  /** Arrow C++'s dataset scanner: faster, but reads whole row groups ahead. */
  ARROW_DATASET("arrow-dataset");

  private final String configName;

  ScanEngine(String configName) {
    this.configName = configName;
  }

  /** The engine's name in {@code scan.engine}. */
  public String configName() {
    return configName;
  }

  /** The engine {@code name} (any case) names, if any. */
  public static Optional<ScanEngine> fromName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    for (ScanEngine engine : values()) {
      if (engine.configName.equals(lower)) {
        return Optional.of(engine);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return configName;
  }
}
