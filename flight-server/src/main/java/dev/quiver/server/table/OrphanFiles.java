package dev.quiver.server.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsBulkOperations;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * Finds the files under the warehouse that no table references: what killed or failed uploads and
 * commits leave behind (staged Parquet files, manifests and metadata files of commits that never
 * swapped in, folders of tables whose creation never committed).
 *
 * <p>A file is kept when any snapshot of any table reaches it (data files, manifests, manifest
 * lists, statistics), when it is one of a table's metadata files (current and previous), when it
 * lies under a folder of an upload still running, or when it is younger than the cutoff. The caller
 * must make sure no commit runs while the references are read and the files deleted (see {@link
 * IcebergTableStore#removeOrphanFiles}); without that a file committed in between would look
 * unreferenced.
 */
final class OrphanFiles {
  private OrphanFiles() {}

  /** A file found unreferenced (and deleted, unless it was a dry run). */
  record Orphan(Path path, long bytes) {}

  /**
   * What one pass found.
   *
   * @param orphans the unreferenced files, sorted by path
   * @param skippedLive files left because an upload that owns them is running
   * @param skippedYoung files left because they are younger than the cutoff
   * @param removedDirectories empty folders removed after their files
   */
  record Result(List<Orphan> orphans, int skippedLive, int skippedYoung, int removedDirectories) {}

  /** Every path the tables reach, absolute and normalised (a local warehouse). */
  static Set<Path> referenced(Iterable<Table> tables) {
    Set<Path> paths = new HashSet<>();
    referencedLocations(tables).forEach(l -> paths.add(path(l)));
    return paths;
  }

  /** Every location the tables reach, as Iceberg records them. */
  static Set<String> referencedLocations(Iterable<Table> tables) {
    Set<String> paths = new HashSet<>();
    for (Table table : tables) {
      paths.addAll(ReachableFileUtil.metadataFileLocations(table, false));
      paths.addAll(ReachableFileUtil.manifestListLocations(table));
      paths.addAll(ReachableFileUtil.statisticsFilesLocations(table));
      Set<String> manifests = new HashSet<>();
      for (Snapshot snapshot : table.snapshots()) {
        for (ManifestFile manifest : snapshot.allManifests(table.io())) {
          if (!manifests.add(manifest.path())) {
            continue;
          }
          paths.add(manifest.path());
          try (CloseableIterable<String> files =
              ManifestFiles.readPaths(manifest, table.io(), table.specs())) {
            files.forEach(paths::add);
          } catch (IOException e) {
            throw new UncheckedIOException("Cannot read manifest " + manifest.path(), e);
          }
        }
      }
    }
    // An open transaction's working metadata has not been written to a file.
    paths.remove(null);
    return paths;
  }

  /**
   * The put staging folders ({@code put-*}) under {@code warehouse} holding a file (or being a
   * folder) modified after {@code since}: uploads that may still be running on another node.
   */
  static Set<Path> recentStagingFolders(Path warehouse, Instant since) throws IOException {
    Set<Path> recent = new HashSet<>();
    List<Path> staging;
    try (Stream<Path> walk = Files.walk(warehouse)) {
      staging =
          walk.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith("put-"))
              .map(p -> p.toAbsolutePath().normalize())
              .toList();
    }
    for (Path folder : staging) {
      try (Stream<Path> files = Files.walk(folder)) {
        boolean young =
            files.anyMatch(
                f -> {
                  try {
                    return Files.getLastModifiedTime(f).toInstant().isAfter(since);
                  } catch (IOException gone) {
                    return true; // changing under us: the upload is alive
                  }
                });
        if (young) {
          recent.add(folder);
        }
      } catch (IOException | UncheckedIOException gone) {
        recent.add(folder);
      }
    }
    return recent;
  }

  /**
   * Finds (and, unless {@code dryRun}, deletes) the files under {@code warehouse} that are not in
   * {@code referenced}, not under a folder in {@code live} and last modified before {@code cutoff};
   * then removes the folders that deleting them left empty, except namespace folders, the folders
   * in {@code tables} (table locations) and their {@code data} and {@code metadata} folders.
   */
  static Result remove(
      Path warehouse,
      Set<Path> referenced,
      Set<Path> tables,
      Set<Path> live,
      Instant cutoff,
      boolean dryRun)
      throws IOException {
    List<Orphan> orphans = new ArrayList<>();
    int skippedLive = 0;
    int skippedYoung = 0;
    List<Path> files;
    try (Stream<Path> walk = Files.walk(warehouse)) {
      files = walk.filter(Files::isRegularFile).map(p -> p.toAbsolutePath().normalize()).toList();
    }
    for (Path file : files) {
      if (referenced.contains(file)) {
        continue;
      }
      if (live.stream().anyMatch(file::startsWith)) {
        skippedLive++;
        continue;
      }
      long bytes;
      try {
        if (Files.getLastModifiedTime(file).toInstant().isAfter(cutoff)) {
          skippedYoung++;
          continue;
        }
        bytes = Files.size(file);
        if (!dryRun) {
          Files.delete(file);
        }
      } catch (NoSuchFileException gone) {
        continue; // deleted meanwhile (a failed put cleaning up): nothing to do
      }
      orphans.add(new Orphan(file, bytes));
    }
    int removedDirectories = dryRun ? 0 : removeEmptyFolders(warehouse, orphans, tables, live);
    orphans.sort(Comparator.comparing(Orphan::path));
    return new Result(List.copyOf(orphans), skippedLive, skippedYoung, removedDirectories);
  }

  /**
   * As {@link #remove} for a remote warehouse: lists every object under {@code prefix} through
   * {@code io} and deletes (unless {@code dryRun}) those not in {@code referenced}, not under a
   * prefix in {@code live} and last modified before {@code cutoff}. Object stores have no folders,
   * so none are removed. The orphans' paths are relative to {@code prefix}.
   */
  static Result removeRemote(
      SupportsPrefixOperations io,
      String prefix,
      Set<String> referenced,
      Set<String> live,
      Instant cutoff,
      boolean dryRun) {
    String root = prefix.endsWith("/") ? prefix : prefix + "/";
    List<Orphan> orphans = new ArrayList<>();
    List<String> doomed = new ArrayList<>();
    int skippedLive = 0;
    int skippedYoung = 0;
    for (FileInfo file : io.listPrefix(root)) {
      String location = file.location();
      if (referenced.contains(location)) {
        continue;
      }
      if (live.stream().anyMatch(location::startsWith)) {
        skippedLive++;
        continue;
      }
      if (Instant.ofEpochMilli(file.createdAtMillis()).isAfter(cutoff)) {
        skippedYoung++;
        continue;
      }
      doomed.add(location);
      orphans.add(new Orphan(Path.of(location.substring(root.length())), file.size()));
    }
    if (!dryRun && !doomed.isEmpty()) {
      if (io instanceof SupportsBulkOperations bulk) {
        bulk.deleteFiles(doomed);
      } else {
        doomed.forEach(((FileIO) io)::deleteFile);
      }
    }
    orphans.sort(Comparator.comparing(Orphan::path));
    return new Result(List.copyOf(orphans), skippedLive, skippedYoung, 0);
  }

  private static int removeEmptyFolders(
      Path warehouse, List<Orphan> orphans, Set<Path> tables, Set<Path> live) throws IOException {
    Set<Path> candidates = new HashSet<>();
    for (Orphan orphan : orphans) {
      // Keep namespace folders (warehouse/<namespace>), table folders and their data and metadata
      // folders; a folder of a table that was never committed goes once it is empty.
      for (Path dir = orphan.path().getParent();
          dir != null
              && dir.startsWith(warehouse)
              && warehouse.relativize(dir).getNameCount() > 1
              && !tables.contains(dir)
              && !tables.contains(dir.getParent());
          dir = dir.getParent()) {
        candidates.add(dir);
      }
    }
    List<Path> deepestFirst = new ArrayList<>(candidates);
    deepestFirst.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    int removed = 0;
    for (Path dir : deepestFirst) {
      if (live.contains(dir) || isNonEmpty(dir)) {
        continue;
      }
      if (Files.deleteIfExists(dir)) {
        removed++;
      }
    }
    return removed;
  }

  private static boolean isNonEmpty(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return true;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isPresent();
    }
  }

  private static Path path(String location) {
    return LocalFileIO.toPath(location).toAbsolutePath().normalize();
  }
}
