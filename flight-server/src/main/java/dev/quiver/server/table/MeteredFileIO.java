package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.table.StorageIo.Op;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import org.apache.iceberg.io.BulkDeletionFailureException;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.io.RangeReadable;
import org.apache.iceberg.io.SeekableInputStream;
import org.apache.iceberg.io.SupportsBulkOperations;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * A FileIO that counts into a {@link StorageIo} what its delegate does: bytes read and written per
 * file, the time spent waiting inside the delegate's reads, writes, closes, deletes and listings.
 * Everything else is the delegate's; so are its exceptions.
 *
 * <p>It offers prefix and bulk operations whatever the delegate, as S3FileIO has them: a delegate
 * without prefix operations refuses them (UnsupportedOperationException naming it), and a bulk
 * delete on a delegate without one deletes file by file.
 */
final class MeteredFileIO implements FileIO, SupportsPrefixOperations, SupportsBulkOperations {
  private final FileIO delegate;
  private final StorageIo io;

  MeteredFileIO(FileIO delegate, StorageIo io) {
    this.delegate = requireNonNull(delegate, "delegate is null");
    this.io = requireNonNull(io, "io is null");
  }

  /** The FileIO this one counts for. */
  FileIO delegate() {
    return delegate;
  }

  @Override
  public InputFile newInputFile(String location) {
    return new MeteredInput(delegate.newInputFile(location));
  }

  @Override
  public InputFile newInputFile(String location, long length) {
    return new MeteredInput(delegate.newInputFile(location, length));
  }

  @Override
  public OutputFile newOutputFile(String location) {
    return new MeteredOutput(delegate.newOutputFile(location));
  }

  @Override
  public void deleteFile(String location) {
    long start = System.nanoTime();
    delegate.deleteFile(location);
    io.record(Op.DELETE, 1, 0, System.nanoTime() - start);
  }

  @Override
  public void deleteFiles(Iterable<String> locations) throws BulkDeletionFailureException {
    long start = System.nanoTime();
    long[] count = {0};
    Iterable<String> counted =
        () -> {
          Iterator<String> it = locations.iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public String next() {
              count[0]++;
              return it.next();
            }
          };
        };
    try {
      if (delegate instanceof SupportsBulkOperations bulk) {
        bulk.deleteFiles(counted);
      } else {
        counted.forEach(delegate::deleteFile);
      }
    } finally {
      io.record(Op.DELETE, count[0], 0, System.nanoTime() - start);
    }
  }

  @Override
  public Iterable<FileInfo> listPrefix(String prefix) {
    SupportsPrefixOperations prefixes = prefixes();
    return () -> {
      long start = System.nanoTime();
      Iterator<FileInfo> files = prefixes.listPrefix(prefix).iterator();
      io.record(Op.LIST, 1, 0, System.nanoTime() - start);
      return files;
    };
  }

  @Override
  public void deletePrefix(String prefix) {
    long start = System.nanoTime();
    prefixes().deletePrefix(prefix);
    io.record(Op.DELETE, 1, 0, System.nanoTime() - start);
  }

  private SupportsPrefixOperations prefixes() {
    if (delegate instanceof SupportsPrefixOperations prefixes) {
      return prefixes;
    }
    throw new UnsupportedOperationException(
        delegate.getClass().getName() + " has no prefix operations");
  }

  @Override
  public Map<String, String> properties() {
    return delegate.properties();
  }

  @Override
  public void initialize(Map<String, String> properties) {
    delegate.initialize(properties);
  }

  @Override
  public void close() {
    delegate.close();
  }

  private final class MeteredInput implements InputFile {
    private final InputFile file;

    MeteredInput(InputFile file) {
      this.file = file;
    }

    @Override
    public long getLength() {
      return file.getLength();
    }

    @Override
    public SeekableInputStream newStream() {
      long start = System.nanoTime();
      SeekableInputStream stream = file.newStream();
      long opened = System.nanoTime() - start;
      return stream instanceof RangeReadable ranged
          ? new RangedInputStream(stream, ranged, opened)
          : new MeteredInputStream(stream, opened);
    }

    @Override
    public String location() {
      return file.location();
    }

    @Override
    public boolean exists() {
      return file.exists();
    }
  }

  /** Counts the bytes and the time of reads; recorded once, at close. */
  private class MeteredInputStream extends SeekableInputStream {
    final SeekableInputStream stream;
    long bytes;
    long nanos;
    private boolean closed;

    MeteredInputStream(SeekableInputStream stream, long openNanos) {
      this.stream = stream;
      this.nanos = openNanos;
    }

    @Override
    public long getPos() throws IOException {
      return stream.getPos();
    }

    @Override
    public void seek(long newPos) throws IOException {
      stream.seek(newPos);
    }

    @Override
    public int read() throws IOException {
      long start = System.nanoTime();
      int b = stream.read();
      nanos += System.nanoTime() - start;
      if (b >= 0) {
        bytes++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      long start = System.nanoTime();
      int n = stream.read(b, off, len);
      nanos += System.nanoTime() - start;
      if (n > 0) {
        bytes += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      return stream.skip(n);
    }

    @Override
    public int available() throws IOException {
      return stream.available();
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      long start = System.nanoTime();
      try {
        stream.close();
      } finally {
        io.record(Op.READ, 1, bytes, nanos + System.nanoTime() - start);
      }
    }
  }

  /** As {@link MeteredInputStream}, keeping the delegate's positioned reads (Parquet uses them). */
  private final class RangedInputStream extends MeteredInputStream implements RangeReadable {
    private final RangeReadable ranged;

    RangedInputStream(SeekableInputStream stream, RangeReadable ranged, long openNanos) {
      super(stream, openNanos);
      this.ranged = ranged;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
      long start = System.nanoTime();
      ranged.readFully(position, buffer, offset, length);
      nanos += System.nanoTime() - start;
      bytes += length;
    }

    @Override
    public int readTail(byte[] buffer, int offset, int length) throws IOException {
      long start = System.nanoTime();
      int n = ranged.readTail(buffer, offset, length);
      nanos += System.nanoTime() - start;
      bytes += Math.max(n, 0);
      return n;
    }
  }

  private final class MeteredOutput implements OutputFile {
    private final OutputFile file;

    MeteredOutput(OutputFile file) {
      this.file = file;
    }

    @Override
    public PositionOutputStream create() {
      long start = System.nanoTime();
      PositionOutputStream stream = file.create();
      return new MeteredOutputStream(stream, System.nanoTime() - start);
    }

    @Override
    public PositionOutputStream createOrOverwrite() {
      long start = System.nanoTime();
      PositionOutputStream stream = file.createOrOverwrite();
      return new MeteredOutputStream(stream, System.nanoTime() - start);
    }

    @Override
    public String location() {
      return file.location();
    }

    @Override
    public InputFile toInputFile() {
      return new MeteredInput(file.toInputFile());
    }
  }

  /** Counts the bytes and the time of writes and of the close (where an upload completes). */
  private final class MeteredOutputStream extends PositionOutputStream {
    private final PositionOutputStream stream;
    private long bytes;
    private long nanos;
    private boolean closed;

    MeteredOutputStream(PositionOutputStream stream, long createNanos) {
      this.stream = stream;
      this.nanos = createNanos;
    }

    @Override
    public long getPos() throws IOException {
      return stream.getPos();
    }

    @Override
    public long storedLength() throws IOException {
      return stream.storedLength();
    }

    @Override
    public void write(int b) throws IOException {
      long start = System.nanoTime();
      stream.write(b);
      nanos += System.nanoTime() - start;
      bytes++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      long start = System.nanoTime();
      stream.write(b, off, len);
      nanos += System.nanoTime() - start;
      bytes += len;
    }

    @Override
    public void flush() throws IOException {
      long start = System.nanoTime();
      stream.flush();
      nanos += System.nanoTime() - start;
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      long start = System.nanoTime();
      try {
        stream.close();
      } finally {
        io.record(Op.WRITE, 1, bytes, nanos + System.nanoTime() - start);
      }
    }
  }
}
