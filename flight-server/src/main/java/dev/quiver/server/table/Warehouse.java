package dev.quiver.server.table;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.config.StorageSettings;
import dev.quiver.server.table.IcebergTableStore.Staged;
import dev.quiver.server.table.parquet.WrittenFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.Table;
import org.apache.iceberg.aws.AwsClientProperties;
import org.apache.iceberg.aws.s3.S3FileIO;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the tables' files live, and the few operations that differ between a local folder and an S3
 * location: table locations, staging and uploading a put's files, deleting a dropped table's files,
 * listing candidates for orphan removal, and giving readers local paths.
 *
 * <p>Local: DuckDB writes a put's files straight into the table's data folder, and readers read
 * them in place. Remote: DuckDB writes them under {@code <data-dir>/staging}, they are uploaded
 * through the table's FileIO (S3FileIO: multipart past its part size) before the commit and the
 * staged copies are deleted either way; readers read pinned copies in the {@link ReadCache}.
 * Thread-safe.
 */
final class Warehouse implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Warehouse.class);

  private final Optional<Path> local;
  private final String location;
  private final Path staging;
  private final Map<String, String> ioProperties;
  // Remote only: the FileIO for listing and deleting outside a table, and the read cache.
  private final FileIO io;
  private final ReadCache cache;
  private final StorageIo storageIo;
  // Reads files of tables that do not exist yet (creates, registers): io, or a local one.
  private final FileIO readIo;

  private Warehouse(
      Optional<Path> local,
      String location,
      Path staging,
      Map<String, String> ioProperties,
      FileIO io,
      ReadCache cache,
      StorageIo storageIo) {
    this.local = local;
    this.location = location;
    this.staging = staging;
    this.ioProperties = Map.copyOf(ioProperties);
    this.io = io;
    this.cache = cache;
    this.storageIo = storageIo;
    this.readIo = io != null ? io : metered(new LocalFileIO());
  }

  /** The warehouse's folder when it is local; empty for an object store. */
  Optional<Path> localFolder() {
    return local;
  }

  /**
   * Opens the warehouse {@code storage} names; a remote one is checked by listing it, so a missing
   * bucket, refused credentials or an unreachable endpoint fail here (UNAVAILABLE, naming them).
   */
  static Warehouse open(Path dataDir, StorageSettings storage) {
    Map<String, String> props = new HashMap<>();
    if (!storage.isRemote()) {
      Path folder = storage.warehouse().orElseThrow().toAbsolutePath().normalize();
      try {
        Files.createDirectories(folder);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create data folder " + folder, e);
      }
      props.put(CatalogProperties.WAREHOUSE_LOCATION, LocalFileIO.toLocation(folder));
      props.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
      return new Warehouse(
          Optional.of(folder),
          folder.toString(),
          folder,
          props,
          null,
          null,
          new StorageIo("local"));
    }
    String location = storage.remoteWarehouse().orElseThrow().toString();
    while (location.endsWith("/")) {
      location = location.substring(0, location.length() - 1);
    }
    props.put(CatalogProperties.WAREHOUSE_LOCATION, location);
    props.put(CatalogProperties.FILE_IO_IMPL, S3FileIO.class.getName());
    props.put(S3FileIOProperties.CLIENT_FACTORY, S3ClientFactory.class.getName());
    storage.s3Endpoint().ifPresent(e -> props.put(S3FileIOProperties.ENDPOINT, e.toString()));
    storage.s3Region().ifPresent(r -> props.put(AwsClientProperties.CLIENT_REGION, r));
    props.put(S3FileIOProperties.PATH_STYLE_ACCESS, Boolean.toString(storage.s3PathStyleAccess()));
    Path staging = dataDir.resolve("staging");
    // S3FileIO buffers multipart upload parts on disk: under the data folder, not /tmp.
    props.put(S3FileIOProperties.STAGING_DIRECTORY, staging.resolve("s3").toString());
    FileIO io = null;
    try {
      // Staged files of puts a crash interrupted: never committed, never needed.
      LocalFileIO.deleteRecursively(staging);
      Files.createDirectories(staging.resolve("s3"));
      ReadCache cache = new ReadCache(storage.cacheDir(), storage.cacheBytes());
      StorageIo storageIo = new StorageIo("s3");
      io =
          new MeteredFileIO(
              CatalogUtil.loadFileIO(S3FileIO.class.getName(), props, null), storageIo);
      check((SupportsPrefixOperations) io, location, storage);
      return new Warehouse(Optional.empty(), location, staging, props, io, cache, storageIo);
    } catch (IOException e) {
      closeQuietly(io);
      throw new UncheckedIOException("Cannot prepare " + staging + " or the read cache", e);
    } catch (RuntimeException e) {
      closeQuietly(io);
      throw e;
    }
  }

  private static void check(SupportsPrefixOperations io, String location, StorageSettings s) {
    try {
      io.listPrefix(location + "/").iterator().hasNext();
    } catch (RuntimeException e) {
      String endpoint = s.s3Endpoint().map(Object::toString).orElse("AWS S3");
      throw new QuiverException(
          QuiverErrorCode.UNAVAILABLE,
          e,
          "Cannot use storage.warehouse %s (bucket %s at %s): %s",
          location,
          s.bucket(),
          endpoint,
          firstLine(e));
    }
  }

  /** What the storage did, through every FileIO {@link #metered} made. */
  StorageIo storageIo() {
    return storageIo;
  }

  /** {@code io} (the catalog's, for its tables), counting into {@link #storageIo}. */
  FileIO metered(FileIO io) {
    return new MeteredFileIO(io, storageIo);
  }

  /** The catalog properties that choose the FileIO and the warehouse location. */
  Map<String, String> fileIoProperties() {
    return ioProperties;
  }

  /** The warehouse: a local folder or an s3:// location. */
  String location() {
    return location;
  }

  Optional<ReadCache> cache() {
    return Optional.ofNullable(cache);
  }

  /** A namespace's folder, {@code <warehouse>/<namespace>}, which its tables' locations lie in. */
  String namespaceLocation(String namespace) {
    if (local.isPresent()) {
      return LocalFileIO.toLocation(local.get().resolve(namespace));
    }
    return location + "/" + namespace;
  }

  /**
   * A FileIO that reads the warehouse's files (the object store's, or a {@link LocalFileIO}), for
   * tables that do not exist yet, counted in {@link #storageIo}; the caller must not close it.
   */
  FileIO readIo() {
    return readIo;
  }

  /** A new table's location: {@code <warehouse>/<namespace>/<folder>}. */
  String tableLocation(String namespace, String folder) {
    if (local.isPresent()) {
      return LocalFileIO.toLocation(local.get().resolve(namespace).resolve(folder));
    }
    return location + "/" + namespace + "/" + folder;
  }

  /** A new put's staging: where DuckDB writes, and what orphan removal must leave meanwhile. */
  Staged stage(String tableLocation, String put) {
    if (local.isPresent()) {
      Path folder =
          LocalFileIO.toPath(tableLocation)
              .resolve("data")
              .resolve(put)
              .toAbsolutePath()
              .normalize();
      return new Staged(folder, List.of(), List.of(), Set.of(folder.toString()));
    }
    Path folder = staging.resolve(put);
    return new Staged(
        folder, List.of(), List.of(), Set.of(folder.toString(), uploadPrefix(tableLocation, put)));
  }

  private static String uploadPrefix(String tableLocation, String put) {
    return tableLocation + "/data/" + put + "/";
  }

  /**
   * The staged put with its files' final locations: for a local warehouse where DuckDB wrote them,
   * for a remote one their uploads through {@code tableIo} (made here, one after another). If an
   * upload fails, those already made are deleted and UNAVAILABLE is thrown.
   */
  Staged upload(FileIO tableIo, Staged staged, List<WrittenFile> files) {
    List<String> locations = new ArrayList<>(files.size());
    if (local.isPresent()) {
      files.forEach(f -> locations.add(LocalFileIO.toLocation(f.path())));
      return new Staged(staged.folder(), files, locations, staged.live());
    }
    String prefix = staged.live().stream().filter(l -> l.contains("://")).findFirst().orElseThrow();
    try {
      for (WrittenFile file : files) {
        // Relative to the put's folder: a partitioned put's files sit in partition folders.
        String target =
            prefix + staged.folder().relativize(file.path()).toString().replace('\\', '/');
        try (InputStream in = Files.newInputStream(file.path());
            PositionOutputStream out = tableIo.newOutputFile(target).create()) {
          locations.add(target);
          in.transferTo(out);
        }
      }
    } catch (IOException | RuntimeException e) {
      deleteQuietly(tableIo, locations);
      throw new QuiverException(
          QuiverErrorCode.UNAVAILABLE,
          e,
          "Cannot upload a put's data files to %s: %s",
          prefix,
          firstLine(e));
    }
    return new Staged(staged.folder(), files, locations, staged.live());
  }

  /** After a commit: the staged local copies of uploaded files go. */
  void committed(Staged staged) throws IOException {
    if (local.isEmpty()) {
      LocalFileIO.deleteRecursively(staged.folder());
    }
  }

  /** After a failed write or commit: the staged files and any uploads go. */
  void discard(FileIO tableIo, Staged staged) throws IOException {
    try {
      if (local.isEmpty()) {
        deleteQuietly(tableIo, staged.locations());
      }
    } finally {
      LocalFileIO.deleteRecursively(staged.folder());
    }
  }

  /** Deletes every file under a dropped table's location (its own, unique to it). */
  void deleteTableFiles(TableId id, String tableLocation) {
    if (local.isPresent()) {
      Path folder = LocalFileIO.toPath(tableLocation).toAbsolutePath().normalize();
      if (folder.startsWith(local.get())) {
        try {
          LocalFileIO.deleteRecursively(folder);
        } catch (IOException e) {
          LOG.warn("Dropped table {} but could not delete its folder {}", id, folder, e);
        }
      }
      return;
    }
    if (!tableLocation.startsWith(location + "/")) {
      return; // not ours to delete
    }
    try {
      ((SupportsPrefixOperations) io).deletePrefix(tableLocation + "/");
    } catch (RuntimeException e) {
      LOG.warn("Dropped table {} but could not delete its objects under {}", id, tableLocation, e);
    }
  }

  /**
   * Local paths of {@code files} and their delete files, read with {@code tableIo}: in place for a
   * local warehouse, pinned cache copies for a remote one.
   */
  LocalFiles localFiles(FileIO tableIo, List<ScanFile> files) {
    if (local.isPresent()) {
      return LocalFiles.inPlace(files);
    }
    return cache.pinScan(tableIo, files);
  }

  /**
   * Finds (and unless {@code dryRun} deletes) the files under the warehouse that {@code tables} do
   * not reference, not under a {@code live} folder or prefix, older than {@code cutoff}; orphans'
   * paths relative to the warehouse.
   */
  OrphanFiles.Result removeOrphans(
      List<Table> tables, Set<String> live, Instant cutoff, boolean dryRun) throws IOException {
    if (local.isEmpty()) {
      return OrphanFiles.removeRemote(
          (SupportsPrefixOperations) io,
          location,
          OrphanFiles.referencedLocations(tables),
          live,
          cutoff,
          dryRun);
    }
    Path folder = local.get();
    Set<Path> tableFolders = new HashSet<>();
    tables.forEach(
        t -> tableFolders.add(LocalFileIO.toPath(t.location()).toAbsolutePath().normalize()));
    Set<Path> livePaths = new HashSet<>();
    live.forEach(l -> livePaths.add(Path.of(l)));
    OrphanFiles.Result result =
        OrphanFiles.remove(
            folder, OrphanFiles.referenced(tables), tableFolders, livePaths, cutoff, dryRun);
    return new OrphanFiles.Result(
        result.orphans().stream()
            .map(o -> new OrphanFiles.Orphan(folder.relativize(o.path()), o.bytes()))
            .toList(),
        result.skippedLive(),
        result.skippedYoung(),
        result.removedDirectories());
  }

  private static void deleteQuietly(FileIO tableIo, List<String> locations) {
    for (String l : locations) {
      try {
        tableIo.deleteFile(l);
      } catch (RuntimeException e) {
        LOG.warn("Cannot delete the upload {} of a failed put; orphan removal will", l, e);
      }
    }
  }

  private static String firstLine(Throwable e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private static void closeQuietly(FileIO io) {
    if (io != null) {
      try {
        io.close();
      } catch (RuntimeException e) {
        // Closing after a failed open; that failure is what the caller reports.
      }
    }
  }

  @Override
  public void close() {
    if (io != null) {
      io.close();
    }
  }
}
