package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionStatisticsFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that every location a REST commit, create or register introduces lies under the table's
 * own location, so a client with write on one namespace cannot make Quiver serve (or delete) files
 * of another table or of the server's host. What is checked: the table location, the write-path
 * properties, statistics files and, for each new snapshot, its manifest list, the manifests it adds
 * (those its parent does not list) and every live data and delete file in them. What the table
 * already held is not checked again. A location outside fails with PERMISSION_DENIED (REST 403)
 * naming it and the allowed prefix.
 *
 * <p>One instance serves one call, across its commit attempts: the manifests it has read are kept,
 * so a retry re-reads none. Not thread-safe.
 */
final class CommitLocations {
  private static final Logger LOG = LoggerFactory.getLogger(CommitLocations.class);

  /** The table properties that steer where writers put files. */
  static final List<String> PATH_PROPERTIES =
      List.of(
          TableProperties.WRITE_DATA_LOCATION,
          TableProperties.WRITE_METADATA_LOCATION,
          TableProperties.OBJECT_STORE_PATH,
          TableProperties.WRITE_FOLDER_STORAGE_LOCATION);

  private final TableIdentifier ident;
  private final String action;
  private final FileIO io;
  // Manifest path -> the paths of its live files; snapshot id -> the paths of its manifests.
  private final Map<String, List<String>> filesOf = new HashMap<>();
  private final Map<Long, Set<String>> manifestsOf = new HashMap<>();

  /**
   * @param action what the call does, for messages ("commit to", "create", "register")
   * @param io the table's FileIO, which reads the new snapshots' manifest lists and manifests
   */
  CommitLocations(TableIdentifier ident, String action, FileIO io) {
    this.ident = requireNonNull(ident, "ident is null");
    this.action = requireNonNull(action, "action is null");
    this.io = requireNonNull(io, "io is null");
  }

  /**
   * Checks what {@code updated} introduces over {@code base} (null for a table that does not exist
   * yet: a create or a register, whose location must then lie inside {@code namespaceFolder}).
   */
  void check(TableMetadata base, TableMetadata updated, String namespaceFolder) {
    String root;
    if (base == null) {
      root = updated.location();
      checkPlacement(root, updated.properties(), namespaceFolder);
      for (TableMetadata.MetadataLogEntry entry : updated.previousFiles()) {
        requireUnder(root, "earlier metadata file", entry.file());
      }
    } else {
      root = base.location();
      if (!Objects.equals(base.location(), updated.location())) {
        requireUnder(root, "new location", updated.location());
      }
      checkProperties(root, base.properties(), updated.properties());
    }
    Set<String> knownStats = new HashSet<>();
    if (base != null) {
      base.statisticsFiles().forEach(s -> knownStats.add(s.path()));
      base.partitionStatisticsFiles().forEach(s -> knownStats.add(s.path()));
    }
    for (StatisticsFile stats : updated.statisticsFiles()) {
      if (!knownStats.contains(stats.path())) {
        requireUnder(root, "statistics file", stats.path());
      }
    }
    for (PartitionStatisticsFile stats : updated.partitionStatisticsFiles()) {
      if (!knownStats.contains(stats.path())) {
        requireUnder(root, "partition statistics file", stats.path());
      }
    }
    for (Snapshot snapshot : updated.snapshots()) {
      if (base == null || base.snapshot(snapshot.snapshotId()) == null) {
        checkSnapshot(base, updated, snapshot, root);
      }
    }
  }

  /**
   * Checks a new table's place: {@code location} strictly inside {@code namespaceFolder}, and the
   * write-path {@code properties} under {@code location}.
   */
  void checkPlacement(String location, Map<String, String> properties, String namespaceFolder) {
    requireInside(namespaceFolder, "location", location);
    checkProperties(location, Map.of(), properties);
  }

  /**
   * Checks {@code metadataFile}, the file a register names, which must lie inside {@code
   * namespaceFolder} before the server reads it.
   */
  void checkMetadataFile(String metadataFile, String namespaceFolder) {
    requireInside(namespaceFolder, "metadata file", metadataFile);
  }

  private void checkProperties(String root, Map<String, String> was, Map<String, String> is) {
    for (String key : PATH_PROPERTIES) {
      String value = is.get(key);
      if (value != null && !value.equals(was.get(key))) {
        requireUnder(root, "property " + key, value);
      }
    }
  }

  /** Checks a new snapshot: its manifest list, the manifests it adds and their live files. */
  private void checkSnapshot(
      TableMetadata base, TableMetadata updated, Snapshot snapshot, String root) {
    if (snapshot.manifestListLocation() != null) {
      requireUnder(
          root,
          "manifest list of snapshot " + snapshot.snapshotId(),
          snapshot.manifestListLocation());
    }
    Set<String> inherited = Set.of();
    Long parentId = snapshot.parentId();
    if (base != null && parentId != null && base.snapshot(parentId) != null) {
      // Manifests the parent already lists were checked when they came (or predate the check).
      inherited = manifests(base.snapshot(parentId));
    }
    for (ManifestFile manifest : snapshot.allManifests(io)) {
      if (inherited.contains(manifest.path())) {
        continue;
      }
      requireUnder(root, "manifest", manifest.path());
      for (String file : files(manifest, updated)) {
        String what = manifest.content() == ManifestContent.DELETES ? "delete file" : "data file";
        requireUnder(root, what, file);
      }
    }
  }

  private Set<String> manifests(Snapshot snapshot) {
    return manifestsOf.computeIfAbsent(
        snapshot.snapshotId(),
        id -> {
          Set<String> paths = new HashSet<>();
          snapshot.allManifests(io).forEach(m -> paths.add(m.path()));
          return paths;
        });
  }

  /** The live files (added or carried over) of {@code manifest}, read once per call. */
  private List<String> files(ManifestFile manifest, TableMetadata updated) {
    List<String> known = filesOf.get(manifest.path());
    if (known != null) {
      return known;
    }
    List<String> paths = new ArrayList<>();
    try (ManifestReader<? extends ContentFile<?>> reader = reader(manifest, updated)) {
      for (ContentFile<?> file : reader) {
        paths.add(file.location());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read manifest " + manifest.path(), e);
    }
    filesOf.put(manifest.path(), paths);
    return paths;
  }

  private ManifestReader<? extends ContentFile<?>> reader(ManifestFile manifest, TableMetadata m) {
    return manifest.content() == ManifestContent.DELETES
        ? ManifestFiles.readDeleteManifest(manifest, io, m.specsById())
        : ManifestFiles.read(manifest, io, m.specsById());
  }

  /** Fails unless {@code location} lies strictly inside {@code folder} (a namespace's). */
  private void requireInside(String folder, String what, String location) {
    if (!isUnder(folder, location) || isUnder(location, folder)) {
      throw outside(what, location, folder);
    }
  }

  private void requireUnder(String root, String what, String location) {
    if (!isUnder(root, location)) {
      throw outside(what, location, root);
    }
  }

  private QuiverException outside(String what, String location, String root) {
    String prefix = root.endsWith("/") ? root : root + "/";
    return new QuiverException(
        QuiverErrorCode.PERMISSION_DENIED,
        "Cannot %s table %s: its %s %s is not under %s, the only prefix it may use",
        action,
        ident,
        what,
        location,
        prefix);
  }

  /**
   * {@code io} for cleaning up a table at {@code root}: it deletes only files under {@code root}
   * and logs (and keeps) any other, which Quiver does not own though the table's metadata names it.
   */
  static FileIO deletingOnlyUnder(FileIO io, String root) {
    return new OwnedFiles(io, root);
  }

  /**
   * Whether {@code location} is {@code root} or lies under it, compared by path segment after
   * normalising (so {@code .../t1_evil} is not under {@code .../t1}): same scheme and bucket, and
   * no {@code .} or {@code ..} segment, query or fragment in either.
   */
  static boolean isUnder(String root, String location) {
    Optional<Parsed> r = Parsed.of(root);
    Optional<Parsed> l = Parsed.of(location);
    if (r.isEmpty() || l.isEmpty()) {
      return false;
    }
    Parsed a = r.get();
    Parsed b = l.get();
    return a.scheme.equals(b.scheme)
        && a.authority.equals(b.authority)
        && b.segments.size() >= a.segments.size()
        && b.segments.subList(0, a.segments.size()).equals(a.segments);
  }

  private static final class OwnedFiles implements FileIO {
    private final FileIO io;
    private final String root;

    OwnedFiles(FileIO io, String root) {
      this.io = requireNonNull(io, "io is null");
      this.root = requireNonNull(root, "root is null");
    }

    @Override
    public InputFile newInputFile(String location) {
      return io.newInputFile(location);
    }

    @Override
    public OutputFile newOutputFile(String location) {
      return io.newOutputFile(location);
    }

    @Override
    public void deleteFile(String location) {
      if (isUnder(root, location)) {
        io.deleteFile(location);
      } else {
        LOG.warn("Kept {}: the table's metadata names it but it is not under {}", location, root);
      }
    }
  }

  /** A location split into its scheme, its authority (a bucket) and its path segments. */
  private record Parsed(String scheme, String authority, List<String> segments) {
    static Optional<Parsed> of(String location) {
      if (location == null || location.isEmpty()) {
        return Optional.empty();
      }
      Parsed parsed;
      if (location.startsWith("file:") || location.startsWith("/")) {
        try {
          // As LocalFileIO opens it: a file: URI is decoded, so %2e%2e is a "..".
          Path path = LocalFileIO.toPath(location);
          if (!path.isAbsolute()) {
            return Optional.empty();
          }
          List<String> names = new ArrayList<>();
          path.forEach(name -> names.add(name.toString()));
          parsed = new Parsed("file", "", names);
        } catch (IllegalArgumentException e) { // and InvalidPathException
          return Optional.empty();
        }
      } else {
        int colon = location.indexOf("://");
        if (colon <= 0 || location.indexOf('?') >= 0 || location.indexOf('#') >= 0) {
          return Optional.empty();
        }
        String rest = location.substring(colon + 3);
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        List<String> names = new ArrayList<>();
        if (slash >= 0) {
          for (String name : rest.substring(slash + 1).split("/")) {
            if (!name.isEmpty()) {
              names.add(name);
            }
          }
        }
        if (authority.isEmpty()) {
          return Optional.empty();
        }
        parsed = new Parsed(location.substring(0, colon), authority, names);
      }
      if (parsed.segments.contains("..") || parsed.segments.contains(".")) {
        return Optional.empty();
      }
      return Optional.of(parsed);
    }
  }
}
