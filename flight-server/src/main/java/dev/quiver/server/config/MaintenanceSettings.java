package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The {@code maintenance.*} part of {@link ServerConfig}: the background policy that compacts the
 * small files of every table and expires old snapshots (deleting the files only they reached).
 *
 * @param enabled whether the background task runs at all (the expire-snapshots action works either
 *     way)
 * @param interval the pause between two runs
 * @param expireAfter how long a snapshot is kept after it stopped being current; a read of a
 *     snapshot that lasts longer than this may lose its files
 * @param retainLast the most recent snapshots of each table kept whatever their age
 * @param compactMinFiles a table is compacted once it has this many small data files (under half of
 *     storage.target-file-size); 0 turns compaction off
 */
public record MaintenanceSettings(
    boolean enabled, Duration interval, Duration expireAfter, int retainLast, int compactMinFiles) {
  /**
   * On, every minute, expiring after 15 minutes, keeping the last 10 snapshots, compacting past 16
   * small files.
   */
  public static final MaintenanceSettings DEFAULTS =
      new MaintenanceSettings(true, Duration.ofMinutes(1), Duration.ofMinutes(15), 10, 16);

  public MaintenanceSettings {
    requireNonNull(interval, "interval is null");
    requireNonNull(expireAfter, "expireAfter is null");
    if (interval.toMillis() < 1) {
      throw new IllegalArgumentException("maintenance.interval must be positive: " + interval);
    }
    if (expireAfter.isNegative()) {
      throw new IllegalArgumentException(
          "maintenance.expire-after must not be negative: " + expireAfter);
    }
    if (retainLast < 1) {
      throw new IllegalArgumentException(
          "maintenance.retain-last must be at least 1: " + retainLast);
    }
  }
}
