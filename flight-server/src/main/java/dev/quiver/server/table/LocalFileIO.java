package dev.quiver.server.table;

import com.google.errorprone.annotations.ThreadSafe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.io.SeekableInputStream;

/**
 * An Iceberg {@link FileIO} over the local file system with java.nio, and no Hadoop.
 *
 * <p>iceberg-core has no local FileIO of its own (HadoopFileIO needs Hadoop). Locations keep the
 * {@code file:} URIs they are given, new files are created exclusively (Iceberg relies on that for
 * metadata files), and every file is fsynced on close so a committed snapshot survives a crash. It
 * holds no state.
 */
@ThreadSafe
public final class LocalFileIO implements FileIO {
  private Map<String, String> properties = Map.of();

  /** The local path of an Iceberg location: a {@code file:} URI or a plain absolute path. */
  public static Path toPath(String location) {
    return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
  }

  /** The {@code file:} URI Iceberg should record for a local path. */
  public static String toLocation(Path path) {
    return path.toAbsolutePath().normalize().toUri().toString();
  }

  @Override
  public InputFile newInputFile(String location) {
    return new LocalInput(location);
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return new LocalOutput(location);
  }

  @Override
  public void deleteFile(String location) {
    try {
      Files.deleteIfExists(toPath(location));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + location, e);
    }
  }

  @Override
  public void initialize(Map<String, String> props) {
    this.properties = Map.copyOf(props);
  }

  @Override
  public Map<String, String> properties() {
    return properties;
  }

  private static final class LocalInput implements InputFile {
    private final String location;
    private final InputFile delegate;

    LocalInput(String location) {
      this.location = location;
      this.delegate = org.apache.iceberg.Files.localInput(toPath(location).toFile());
    }

    @Override
    public long getLength() {
      try {
        return Files.size(toPath(location));
      } catch (NoSuchFileException e) {
        throw new NotFoundException(e, "File does not exist: %s", location);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot stat " + location, e);
      }
    }

    @Override
    public SeekableInputStream newStream() {
      if (!exists()) {
        throw new NotFoundException("File does not exist: %s", location);
      }
      return delegate.newStream();
    }

    @Override
    public String location() {
      return location;
    }

    @Override
    public boolean exists() {
      return Files.exists(toPath(location));
    }
  }

  private static final class LocalOutput implements OutputFile {
    private final String location;

    LocalOutput(String location) {
      this.location = location;
    }

    @Override
    public PositionOutputStream create() {
      return open(StandardOpenOption.CREATE_NEW);
    }

    @Override
    public PositionOutputStream createOrOverwrite() {
      return open(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private PositionOutputStream open(StandardOpenOption... options) {
      Path path = toPath(location);
      try {
        Files.createDirectories(path.getParent());
        StandardOpenOption[] all = new StandardOpenOption[options.length + 1];
        System.arraycopy(options, 0, all, 0, options.length);
        all[options.length] = StandardOpenOption.WRITE;
        return new SyncingStream(FileChannel.open(path, all));
      } catch (FileAlreadyExistsException e) {
        throw new AlreadyExistsException(e, "File already exists: %s", location);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create " + location, e);
      }
    }

    @Override
    public String location() {
      return location;
    }

    @Override
    public InputFile toInputFile() {
      return new LocalInput(location);
    }
  }

  /** Tracks its position in a field: Iceberg asks for it after close(). */
  private static final class SyncingStream extends PositionOutputStream {
    private final FileChannel channel;
    private long position;
    private boolean closed;

    SyncingStream(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public long getPos() {
      return position;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
      while (buffer.hasRemaining()) {
        position += channel.write(buffer);
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try (channel) {
        channel.force(true);
      }
    }
  }

  /** Deletes a folder and everything in it; a missing folder is fine. */
  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
