package dev.quiver.server.config;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A lock on a server's data folder ({@code <data-dir>/quiver.lock}), held while the server runs, so
 * a second server started on the same folder stops with a clear message instead of sharing its
 * staging files, spill folders and (with the embedded default) its catalog. Nodes of a cluster
 * share the catalog database and the warehouse, never a data folder. The operating system drops the
 * lock when the process ends, however it ends.
 */
public final class DataFolderLock implements AutoCloseable {
  /** The lock file's name in the data folder. */
  public static final String FILE = "quiver.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataFolderLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code dataDir}, which must exist.
   *
   * @throws IllegalArgumentException when another server holds it: the configuration is refused, as
   *     a bad key would be
   */
  public static DataFolderLock acquire(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this JVM
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IllegalArgumentException(
          "Another Quiver server is using the data folder "
              + dataDir
              + " (it holds "
              + file
              + "); stop it, or give this server another storage.data-dir");
    }
    return new DataFolderLock(channel, lock);
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
