package dev.quiver.server.table;

import java.nio.file.Path;
import java.util.List;

/**
 * Local paths of the data files one read needs: the files themselves for a local warehouse, pinned
 * copies in the {@link ReadCache} for a remote one. Close it when the read is done (DuckDB and
 * arrow-dataset have closed the files); until then no copy is evicted. A second close does nothing.
 */
public final class LocalFiles implements AutoCloseable {
  private final List<Path> paths;
  private Runnable release;

  LocalFiles(List<Path> paths, Runnable release) {
    this.paths = List.copyOf(paths);
    this.release = release;
  }

  /** Files read in place: nothing to release. */
  static LocalFiles inPlace(List<Path> paths) {
    return new LocalFiles(paths, () -> {});
  }

  /** The local paths, in the order asked for. */
  public List<Path> paths() {
    return paths;
  }

  /** The paths as {@code file:} URIs, for arrow-dataset. */
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
