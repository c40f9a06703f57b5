package dev.quiver.server.config;

/**
 * The {@code storage.max-open-partitions} part of {@link ServerConfig}: how puts to partitioned
 * tables bound their resources.
 *
 * @param maxOpenPartitions the most partition spill files one put keeps open at once; past it the
 *     least recently used is closed and reopened when its partition comes back, so a put may touch
 *     any number of partitions
 */
public record PartitionSettings(int maxOpenPartitions) {
  /** 64 open partition files per put. */
  public static final PartitionSettings DEFAULTS = new PartitionSettings(64);

  public PartitionSettings {
    if (maxOpenPartitions < 1) {
      throw new IllegalArgumentException(
          "storage.max-open-partitions must be at least 1: " + maxOpenPartitions);
    }
  }
}
