package dev.quiver.server.table;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Local paths of the files one read needs (data files and the delete files that apply to them): the
 * files themselves for a local warehouse, pinned copies in the {@link ReadCache} for a remote one.
 * Close it when the read is done (DuckDB and arrow-dataset have closed the files); until then no
 * copy is evicted. A second close does nothing.
 */
public final class LocalFiles implements AutoCloseable {
  private final List<ScanFile> files;
  private final List<Path> paths;
  private final Map<String, Path> byLocation;
  private Runnable release;

  LocalFiles(
      List<ScanFile> files, List<Path> paths, Map<String, Path> byLocation, Runnable release) {
    this.files = List.copyOf(files);
    this.paths = List.copyOf(paths);
    this.byLocation = Map.copyOf(byLocation);
    this.release = release;
  }

  /** Files read in place (a local warehouse): nothing to release. */
  public static LocalFiles inPlace(List<ScanFile> files) {
    Map<String, Path> byLocation = new HashMap<>();
    for (ScanFile file : files) {
      byLocation.put(file.data().location(), LocalFileIO.toPath(file.data().location()));
      for (ScanFile.Delete delete : file.deletes()) {
        byLocation.put(delete.file().location(), LocalFileIO.toPath(delete.file().location()));
      }
    }
    List<Path> paths = files.stream().map(f -> byLocation.get(f.data().location())).toList();
    return new LocalFiles(files, paths, byLocation, () -> {});
  }

  /** The data files read, with their deletes, in the order asked for. */
  public List<ScanFile> files() {
    return files;
  }

  /** The data files' local paths, in the order asked for. */
  public List<Path> paths() {
    return paths;
  }

  /** The local path of a data or delete file of {@link #files()}, by its table location. */
  public Path path(String location) {
    Path path = byLocation.get(location);
    if (path == null) {
      throw new IllegalArgumentException("No local copy of " + location + " was asked for");
    }
    return path;
  }

  /** The data files' paths as {@code file:} URIs, for arrow-dataset. */
  public List<String> uris() {
    return paths.stream().map(LocalFileIO::toLocation).toList();
  }

  @Override
  public synchronized void close() {
    Runnable r = release;
    release = null;
    if (r != null) {
      r.run();
    }
  }
}
