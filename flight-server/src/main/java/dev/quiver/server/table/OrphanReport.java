package dev.quiver.server.table;

import java.util.List;

/**
 * What {@link IcebergTableStore#removeOrphanFiles} found and removed.
 *
 * @param files the unreferenced files removed (or, in a dry run, that would be), as paths relative
 *     to the warehouse folder, sorted
 * @param tablesScanned how many tables' references were read
 * @param skippedLive unreferenced files kept because a running upload owns them
 * @param skippedYoung unreferenced files kept because they are younger than the cutoff
 * @param removedDirectories empty folders removed after their files
 * @param dryRun whether nothing was deleted
 */
public record OrphanReport(
    List<File> files,
    int tablesScanned,
    int skippedLive,
    int skippedYoung,
    int removedDirectories,
    boolean dryRun) {
  public OrphanReport {
    files = List.copyOf(files);
  }

  /** One orphan file: its path under the warehouse folder and its size. */
  public record File(String path, long bytes) {}

  /** The bytes of all {@link #files}. */
  public long bytes() {
    return files.stream().mapToLong(File::bytes).sum();
  }
}
