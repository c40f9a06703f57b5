package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded local copy of the remote data files scans read, so DuckDB and arrow-dataset read local
 * Parquet (DuckDB's own S3 reader is an extension it would download at run time).
 *
 * <p>A file is keyed by its location and size: Iceberg data files are immutable, so a location with
 * the size the manifest records names one content. A read pins its files until it closes its {@link
 * LocalFiles}; past {@code maxBytes} the least recently used unpinned files are deleted, and pinned
 * ones stay even if that keeps the cache over its bound for a while. Files left by an earlier run
 * are adopted at start. The cache is disk only: it takes no Arrow or DuckDB memory beyond a copy
 * buffer per fetch. Thread-safe.
 */
@ThreadSafe
public final class ReadCache {
  private static final Logger LOG = LoggerFactory.getLogger(ReadCache.class);
  private static final String SUFFIX = ".parquet";

  private final Path dir;
  private final long maxBytes;

  @GuardedBy("this")
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  @GuardedBy("this")
  private final Map<String, CompletableFuture<Entry>> fetching = new HashMap<>();

  @GuardedBy("this")
  private long cachedBytes;

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder fetchedBytes = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  /** A cached copy; {@code pins} counts the open reads of it. */
  private static final class Entry {
    final Path path;
    final long bytes;

    @GuardedBy("ReadCache.this")
    int pins;

    Entry(Path path, long bytes) {
      this.path = path;
      this.bytes = bytes;
    }
  }

  /**
   * What the cache has done since start.
   *
   * @param hits reads served from a local copy
   * @param misses reads that fetched the file first
   * @param fetchedBytes bytes fetched from the store
   * @param evictions copies deleted to stay within the bound
   * @param cachedBytes bytes held now
   * @param files files held now
   */
  public record Stats(
      long hits, long misses, long fetchedBytes, long evictions, long cachedBytes, int files) {}

  /** Opens the cache in {@code dir} (created if needed), adopting the copies already there. */
  public ReadCache(Path dir, long maxBytes) throws IOException {
    this.dir = dir.toAbsolutePath().normalize();
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
    }
    this.maxBytes = maxBytes;
    Files.createDirectories(this.dir);
    adopt();
  }

  /** The cache folder (DuckDB must be allowed to read it). */
  public Path directory() {
    return dir;
  }

  /**
   * Local copies of {@code files} (location and size), fetched through {@code io} when missing,
   * pinned until the result is closed. Fetches run on the calling thread, one file after another;
   * two reads needing the same missing file fetch it once.
   *
   * @throws QuiverException UNAVAILABLE when a file cannot be fetched
   */
  public LocalFiles pin(FileIO io, List<RemoteFile> files) {
    List<Entry> pinned = new ArrayList<>(files.size());
    try {
      for (RemoteFile file : files) {
        pinned.add(pinOne(io, file));
      }
    } catch (RuntimeException e) {
      release(pinned);
      throw e;
    }
    List<Path> paths = pinned.stream().map(e -> e.path).toList();
    Map<String, Path> byLocation = new HashMap<>();
    for (int i = 0; i < files.size(); i++) {
      byLocation.put(files.get(i).location(), paths.get(i));
    }
    return new LocalFiles(List.of(), paths, byLocation, () -> release(pinned));
  }

  /**
   * Local copies of a scan's data files and of the delete files that apply to them (each delete
   * file once), pinned together until the result is closed; as {@link #pin(FileIO, List)}.
   */
  LocalFiles pinScan(FileIO io, List<ScanFile> files) {
    Map<String, RemoteFile> remote = new LinkedHashMap<>();
    for (ScanFile file : files) {
      remote.putIfAbsent(
          file.data().location(),
          new RemoteFile(file.data().location(), file.data().fileSizeInBytes()));
      for (ScanFile.Delete delete : file.deletes()) {
        remote.putIfAbsent(
            delete.file().location(),
            new RemoteFile(delete.file().location(), delete.file().fileSizeInBytes()));
      }
    }
    LocalFiles all = pin(io, List.copyOf(remote.values()));
    List<Path> paths = files.stream().map(f -> all.path(f.data().location())).toList();
    Map<String, Path> byLocation = new HashMap<>();
    remote.keySet().forEach(location -> byLocation.put(location, all.path(location)));
    return new LocalFiles(files, paths, byLocation, all::close);
  }

  /** A remote data file: its location and its size as the manifest records it. */
  public record RemoteFile(String location, long bytes) {
    public RemoteFile {
      requireNonNull(location, "location is null");
    }
  }

  /** The counters and the current size. */
  public synchronized Stats stats() {
    return new Stats(
        hits.sum(), misses.sum(), fetchedBytes.sum(), evictions.sum(), cachedBytes, entries.size());
  }

  private Entry pinOne(FileIO io, RemoteFile file) {
    String key = key(file);
    CompletableFuture<Entry> mine = null;
    CompletableFuture<Entry> theirs;
    synchronized (this) {
      Entry entry = entries.get(key);
      if (entry != null && Files.exists(entry.path)) {
        entry.pins++;
        hits.increment();
        return entry;
      }
      if (entry != null) {
        forget(key, entry); // deleted behind our back
      }
      theirs = fetching.get(key);
      if (theirs == null) {
        mine = new CompletableFuture<>();
        fetching.put(key, mine);
      }
    }
    if (mine == null) {
      Entry fetched = await(theirs, file);
      synchronized (this) {
        fetched.pins++;
        hits.increment();
      }
      return fetched;
    }
    misses.increment();
    try {
      Entry entry = fetch(io, file, key);
      synchronized (this) {
        entry.pins++;
        entries.put(key, entry);
        cachedBytes += entry.bytes;
        fetching.remove(key);
        evict();
      }
      mine.complete(entry);
      return entry;
    } catch (RuntimeException e) {
      synchronized (this) {
        fetching.remove(key);
      }
      mine.completeExceptionally(e);
      throw e;
    }
  }

  private static Entry await(CompletableFuture<Entry> future, RemoteFile file) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, "Interrupted while fetching %s", file.location());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new UncheckedIOException(new IOException(e.getCause()));
    }
  }

  private Entry fetch(FileIO io, RemoteFile file, String key) {
    Path target = dir.resolve(key + SUFFIX);
    Path partial = dir.resolve(key + ".partial-" + Thread.currentThread().getId());
    try {
      InputFile input = io.newInputFile(file.location(), file.bytes());
      long copied;
      try (InputStream in = input.newStream();
          OutputStream out =
              Files.newOutputStream(
                  partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
        copied = in.transferTo(out);
      }
      if (copied != file.bytes()) {
        throw new IOException(
            "fetched " + copied + " bytes, the table's manifest says " + file.bytes());
      }
      Files.move(
          partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fetchedBytes.add(copied);
      return new Entry(target, copied);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(partial);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof QuiverException q) {
        throw q;
      }
      throw new QuiverException(
          QuiverErrorCode.UNAVAILABLE,
          e,
          "Cannot fetch data file %s into the read cache: %s",
          file.location(),
          e.getMessage());
    }
  }

  private synchronized void release(List<Entry> pinned) {
    for (Entry entry : pinned) {
      entry.pins--;
    }
    evict();
  }

  /** Deletes least recently used unpinned copies until the cache is within its bound. */
  @GuardedBy("this")
  private void evict() {
    Iterator<Map.Entry<String, Entry>> eldestFirst = entries.entrySet().iterator();
    while (cachedBytes > maxBytes && eldestFirst.hasNext()) {
      Entry entry = eldestFirst.next().getValue();
      if (entry.pins > 0) {
        continue;
      }
      eldestFirst.remove();
      cachedBytes -= entry.bytes;
      evictions.increment();
      try {
        Files.deleteIfExists(entry.path);
      } catch (IOException e) {
        LOG.warn("Cannot delete cached copy {}", entry.path, e);
      }
    }
  }

  @GuardedBy("this")
  private void forget(String key, Entry entry) {
    entries.remove(key);
    cachedBytes -= entry.bytes;
  }

  /** Takes in the copies an earlier run left, oldest first, and deletes partial fetches. */
  private synchronized void adopt() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(Files::isRegularFile).toList();
    }
    List<Path> copies = new ArrayList<>();
    for (Path file : files) {
      if (file.getFileName().toString().endsWith(SUFFIX)) {
        copies.add(file);
      } else if (file.getFileName().toString().contains(".partial-")) {
        Files.deleteIfExists(file);
      }
    }
    copies.sort(Comparator.comparing(ReadCache::modified));
    for (Path copy : copies) {
      String name = copy.getFileName().toString();
      Entry entry = new Entry(copy, Files.size(copy));
      entries.put(name.substring(0, name.length() - SUFFIX.length()), entry);
      cachedBytes += entry.bytes;
    }
    evict();
  }

  private static java.nio.file.attribute.FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      return java.nio.file.attribute.FileTime.fromMillis(0);
    }
  }

  /** The copy's file name: a hash of the location and the size. */
  static String key(RemoteFile file) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] digest =
          sha.digest((file.location() + "\n" + file.bytes()).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 20);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing", e);
    }
  }
}
