package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.config.CatalogSettings;
import dev.quiver.server.config.StorageSettings;
import dev.quiver.server.table.parquet.ArrowSchemas;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.server.table.parquet.WrittenFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.jdbc.JdbcClientPool;
import org.apache.iceberg.jdbc.UncheckedSQLException;
import org.apache.iceberg.mapping.MappingUtil;
import org.apache.iceberg.mapping.NameMappingParser;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quiver's tables: Iceberg tables in a JdbcCatalog (an SQLite file in the data folder by default)
 * whose data files are Parquet written by {@link DuckDbParquetWriter}, in a local warehouse folder
 * or in S3 (Iceberg's S3FileIO).
 *
 * <p>Each put stages its files in a folder of its own and commits them as one Iceberg snapshot; a
 * put that fails at any point deletes its folder and commits nothing. With a remote warehouse the
 * folder is local (under the data folder) and its files are uploaded to the table's data location
 * before the commit; a failed put deletes its uploads too, and a killed one leaves them for {@link
 * #removeOrphanFiles}. Concurrent appends to one table are retried by Iceberg's optimistic commit,
 * so none is lost. A put to a partitioned table ({@link #setPartitioning}) writes one file or more
 * per partition in the put's folder ({@link PartitionedPut}); an unpartitioned one takes the plain
 * path, untouched by partitioning.
 */
@ThreadSafe
public final class IcebergTableStore implements AutoCloseable {
  /** Table property holding the exact Arrow schema clients put, as Arrow JSON. */
  public static final String ARROW_SCHEMA_PROPERTY = "quiver.arrow-schema";

  /** Snapshot summary property naming the commit that made the snapshot (a random UUID). */
  public static final String COMMIT_ID_PROPERTY = "quiver.commit-id";

  /**
   * How many earlier metadata files (metadata.json) a table keeps; Iceberg deletes older ones on
   * commit. Ten covers a reader that loaded the table a few commits ago, and bounds the metadata
   * folder (each file holds every snapshot the table keeps) to a few MB.
   */
  static final int PREVIOUS_METADATA_VERSIONS = 10;

  /**
   * Table properties every Quiver table has: Iceberg deletes metadata files past the last {@link
   * #PREVIOUS_METADATA_VERSIONS} after each commit (it keeps them all by default).
   */
  static final Map<String, String> METADATA_CLEANUP =
      Map.of(
          TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED,
          "true",
          TableProperties.METADATA_PREVIOUS_VERSIONS_MAX,
          Integer.toString(PREVIOUS_METADATA_VERSIONS));

  /**
   * Table properties every table the server creates starts with (a put's, or one created through
   * the REST catalog, under the request's own): up to 50 commit attempts, 10 ms to 500 ms apart, so
   * concurrent writers to one table all land, and {@link #METADATA_CLEANUP}.
   */
  static final Map<String, String> TABLE_DEFAULTS = tableDefaults();

  private static Map<String, String> tableDefaults() {
    Map<String, String> props = new HashMap<>(METADATA_CLEANUP);
    props.put(TableProperties.COMMIT_NUM_RETRIES, "50");
    props.put(TableProperties.COMMIT_MIN_RETRY_WAIT_MS, "10");
    props.put(TableProperties.COMMIT_MAX_RETRY_WAIT_MS, "500");
    return Map.copyOf(props);
  }

  private static final Logger LOG = LoggerFactory.getLogger(IcebergTableStore.class);

  // Tables left out of listings already logged, by id and reason: one warning each.
  private final Set<String> unserveableWarned = ConcurrentHashMap.newKeySet();

  private final JdbcCatalog catalog;

  /** The catalog's connection pool, for commits to several tables at once. */
  private final JdbcClientPool catalogPool;

  private final Warehouse warehouse;
  private final DuckDbParquetWriter writer;
  private final ParquetWriteOptions writeOptions;

  /** catalog.uri as it may be printed, for errors that name the catalog. */
  private final String catalogUri;

  /** Whether other nodes may share the catalog and warehouse (catalog.uri is set). */
  private final boolean shared;

  /**
   * On a shared catalog, orphan removal leaves every file younger than this, and every put-*
   * staging folder with a file younger than this: other nodes' uploads and commits in flight, which
   * this node cannot see (it knows only its own live uploads).
   */
  public static final Duration SHARED_MIN_ORPHAN_AGE = Duration.ofHours(1);

  private final CommitStats commitStats = new CommitStats();

  /** The catalog as the REST catalog changes it: same catalog, lock and counts as puts. */
  private final CatalogTables catalogTables;

  /** The most partition spill files one put keeps open (see {@link PartitionedPut}). */
  private volatile int maxOpenPartitions = DEFAULT_MAX_OPEN_PARTITIONS;

  /** The most spill files the last partitioned put had open at once, for tests. */
  private volatile int lastPeakOpenPartitions;

  /** The default of storage.max-open-partitions. */
  public static final int DEFAULT_MAX_OPEN_PARTITIONS = 64;

  /**
   * Where the files of puts that are writing or committing are: local staging folders, and for a
   * remote warehouse the location prefixes they upload to. Orphan removal leaves them.
   */
  private final Set<String> liveUploads = ConcurrentHashMap.newKeySet();

  /**
   * The working tables of open transactions ({@link TableTransaction}), by identity: a commit to
   * one of them stages its files with the transaction instead of publishing them.
   */
  private final Map<Table, TableTransaction> staging =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  /**
   * Commits hold the read lock, orphan removal the write lock: while it reads what the tables
   * reference and deletes the rest, no commit can make a file it saw unreferenced a referenced one.
   */
  private final ReadWriteLock commitLock = new ReentrantReadWriteLock();

  /**
   * Held by snapshot expiry, so two expiries (the background policy and an action) never work out
   * and delete the same unreferenced files at once.
   */
  private final Object maintenanceLock = new Object();

  private IcebergTableStore(
      JdbcCatalog catalog,
      JdbcClientPool catalogPool,
      Warehouse warehouse,
      DuckDbParquetWriter writer,
      ParquetWriteOptions writeOptions,
      String catalogUri,
      boolean shared) {
    this.catalogUri = catalogUri;
    this.shared = shared;
    this.catalog = catalog;
    this.catalogPool = requireNonNull(catalogPool, "catalogPool is null");
    this.warehouse = warehouse;
    this.writer = writer;
    this.writeOptions = writeOptions;
    this.catalogTables =
        new CatalogTables(
            catalog,
            warehouse,
            commitLock.readLock(),
            commitStats,
            e -> catalogFailure(e, "reach the catalog"));
  }

  /** The catalog for the Iceberg REST catalog: lookups, creates and commits of other engines. */
  public CatalogTables catalogTables() {
    return catalogTables;
  }

  /**
   * Opens (creating if needed) the store in {@code dataDir}: the catalog in {@code catalog.db} and
   * the tables under {@code warehouse/}. The store does not own {@code writer}.
   */
  public static IcebergTableStore open(
      Path dataDir, DuckDbParquetWriter writer, ParquetWriteOptions writeOptions) {
    return open(
        dataDir,
        StorageSettings.local(dataDir.toAbsolutePath().normalize()),
        CatalogSettings.DEFAULTS,
        writer,
        writeOptions);
  }

  /**
   * As {@link #open(Path, DuckDbParquetWriter, ParquetWriteOptions)}, with the tables' files where
   * {@code storage} says (a local folder, or an S3 location, checked at once: a missing bucket or
   * refused credentials fail the open with UNAVAILABLE naming them) and the catalog {@code
   * settings} name: the SQLite file {@code catalog.db} in {@code dataDir} by default, or a shared
   * database such as PostgreSQL. The settings' busy timeout applies to SQLite only.
   *
   * @throws QuiverException CATALOG_UNAVAILABLE naming catalog.uri when the database cannot be
   *     reached or its tables cannot be created
   */
  public static IcebergTableStore open(
      Path dataDir,
      StorageSettings storage,
      CatalogSettings settings,
      DuckDbParquetWriter writer,
      ParquetWriteOptions writeOptions) {
    Path root = dataDir.toAbsolutePath().normalize();
    Warehouse warehouse = Warehouse.open(root, storage);
    Map<String, String> props = new HashMap<>(warehouse.fileIoProperties());
    props.put("jdbc.schema-version", "V1");
    if (settings.embedded()) {
      props.put(CatalogProperties.URI, "jdbc:sqlite:" + root.resolve("catalog.db"));
      // SQLite serialises writers; wait for the lock rather than fail a concurrent commit.
      props.put("jdbc.busy_timeout", Long.toString(settings.busyTimeout().toMillis()));
    } else {
      props.putAll(CatalogConnection.properties(settings));
    }
    // The catalog's FileIO, as the properties choose it, counted into the warehouse's StorageIo;
    // its connection pool kept for commits to several tables in one database transaction.
    java.util.concurrent.atomic.AtomicReference<JdbcClientPool> pool =
        new java.util.concurrent.atomic.AtomicReference<>();
    JdbcCatalog catalog =
        new JdbcCatalog(
            p ->
                warehouse.metered(
                    CatalogUtil.loadFileIO(p.get(CatalogProperties.FILE_IO_IMPL), p, null)),
            p -> {
              JdbcClientPool connections = new JdbcClientPool(p.get(CatalogProperties.URI), p);
              pool.set(connections);
              return connections;
            },
            true);
    try {
      catalog.initialize(settings.name(), props);
    } catch (RuntimeException e) {
      closeQuietly(catalog, e);
      warehouse.close();
      throw new QuiverException(
          QuiverErrorCode.CATALOG_UNAVAILABLE,
          e,
          "Cannot open the catalog database catalog.uri=%s: %s",
          settings.printableUri(),
          CatalogConnection.rootMessage(e));
    }
    return new IcebergTableStore(
        catalog,
        pool.get(),
        warehouse,
        requireNonNull(writer, "writer is null"),
        writeOptions,
        settings.printableUri(),
        !settings.embedded());
  }

  private static void closeQuietly(JdbcCatalog catalog, Exception failure) {
    try {
      catalog.close();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /** The warehouse as configured: a local folder or an s3:// location. */
  public String warehouseLocation() {
    return warehouse.location();
  }

  /** What the warehouse's storage did: reads, writes, deletes and listings through FileIO. */
  public StorageIo storageIo() {
    return warehouse.storageIo();
  }

  /** The read cache of a remote warehouse; empty for a local one (files are read in place). */
  public Optional<ReadCache> readCache() {
    return warehouse.cache();
  }

  /**
   * Local paths of {@code files} of {@code table} for DuckDB or arrow-dataset: the files themselves
   * in a local warehouse, pinned copies in the read cache (fetched now if missing) in a remote one.
   * The caller closes the result when the read is done.
   */
  public LocalFiles localFiles(QuiverTable table, List<ScanFile> files) {
    return warehouse.localFiles(table.table().io(), files);
  }

  /** The table, or TABLE_NOT_FOUND. */
  public QuiverTable load(TableId id) {
    return find(id)
        .orElseThrow(
            () ->
                new QuiverException(
                    QuiverErrorCode.TABLE_NOT_FOUND, "Table %s does not exist", id));
  }

  /** The table if it exists. */
  public Optional<QuiverTable> find(TableId id) {
    try {
      return Optional.of(wrap(id, catalog.loadTable(identifier(id))));
    } catch (NoSuchTableException e) {
      return Optional.empty();
    } catch (RuntimeException e) {
      throw catalogFailure(e, "load table " + id);
    }
  }

  /**
   * The table for a listing (ListFlights, GetTables): empty when it was dropped meanwhile or when
   * Quiver cannot serve it (a table another engine made with a column type Quiver cannot read),
   * which is logged once as a WARNING per table and schema rather than failing the listing.
   */
  public Optional<QuiverTable> findListed(TableId id) {
    try {
      return find(id);
    } catch (QuiverException e) {
      if (e.code() != QuiverErrorCode.UNSUPPORTED_TYPE) {
        throw e;
      }
      if (unserveableWarned.add(id + "@" + e.getMessage())) {
        LOG.warn("Table {} is left out of listings: {}", id, e.getMessage());
      }
      return Optional.empty();
    }
  }

  /** Every namespace with a valid Quiver name, sorted. */
  public List<String> namespaces() {
    List<String> names = new ArrayList<>();
    for (Namespace ns : listNamespaces()) {
      if (ns.length() == 1 && TableId.isValidName(ns.level(0))) {
        names.add(ns.level(0));
      }
    }
    names.sort(null);
    return names;
  }

  /** Every table, or those of one namespace (empty when the namespace does not exist). */
  public List<TableId> list(Optional<String> namespace) {
    List<Namespace> namespaces = new ArrayList<>();
    if (namespace.isPresent()) {
      Namespace ns = Namespace.of(namespace.get());
      boolean exists;
      try {
        exists = catalog.namespaceExists(ns);
      } catch (RuntimeException e) {
        throw catalogFailure(e, "list the tables of " + namespace.get());
      }
      if (exists) {
        namespaces.add(ns);
      }
    } else {
      namespaces.addAll(listNamespaces());
    }
    List<TableId> ids = new ArrayList<>();
    for (Namespace ns : namespaces) {
      for (TableIdentifier t : listTables(ns)) {
        if (TableId.isValidName(ns.level(0)) && TableId.isValidName(t.name())) {
          ids.add(TableId.of(ns.level(0), t.name()));
        }
      }
    }
    ids.sort(java.util.Comparator.comparing(TableId::toString));
    return ids;
  }

  /**
   * Drops the table and deletes its files, those under its location only; TABLE_NOT_FOUND if it
   * does not exist.
   */
  public void drop(TableId id) {
    QuiverTable table = load(id);
    boolean dropped;
    try {
      dropped = catalog.dropTable(identifier(id), false);
    } catch (RuntimeException e) {
      throw catalogFailure(e, "drop table " + id);
    }
    if (!dropped) {
      throw new QuiverException(QuiverErrorCode.TABLE_NOT_FOUND, "Table %s does not exist", id);
    }
    String location = table.table().location();
    if (table.table() instanceof HasTableOperations ops) {
      // Iceberg's purge, minus any file the metadata names outside the table's location.
      CatalogUtil.dropTableData(
          CommitLocations.deletingOnlyUnder(table.table().io(), location),
          ops.operations().current());
    }
    warehouse.deleteTableFiles(id, location);
  }

  /**
   * Appends the rows of {@code stream} to the table, creating it (and its namespace) from the
   * stream's schema if absent, as one atomic snapshot.
   *
   * <p>Blocks until the stream ends and the commit is done. The stream's schema is checked before
   * any data is written (SCHEMA_MISMATCH, UNSUPPORTED_TYPE). If the stream fails, nothing is
   * committed and every staged file is deleted; the stream's exception propagates.
   */
  public PutReceipt append(TableId id, ArrowReader stream, BufferAllocator allocator)
      throws IOException {
    return append(id, stream, allocator, () -> {});
  }

  /**
   * As {@link #append(TableId, ArrowReader, BufferAllocator)}, running {@code beforeCommit} once
   * the files are written and just before the commit (under the commit lock): whatever it throws
   * commits nothing, deletes the files and propagates (a cancelled call's check).
   */
  public PutReceipt append(
      TableId id, ArrowReader stream, BufferAllocator allocator, Runnable beforeCommit)
      throws IOException {
    Schema streamSchema = streamSchema(stream);
    Optional<QuiverTable> existing = find(id);
    if (existing.isPresent()) {
      return append(existing.get(), stream, allocator, beforeCommit);
    }
    // A new table: open (but do not commit) its create transaction first, so the files carry
    // the field ids Iceberg assigns, then commit creation and data as one.
    Transaction create;
    try {
      create = newTableTransaction(id, streamSchema);
    } catch (AlreadyExistsException raced) {
      // Another put created the table since find(): append to it as to any existing table.
      return append(load(id), stream, allocator, beforeCommit);
    } catch (RuntimeException e) {
      throw catalogFailure(e, "create table " + id);
    }
    Table table = create.table();
    Staged staged = write(table, stream, allocator, streamSchema, table.schema());
    return commitOrDelete(
        id, table, staged, beforeCommit, () -> commitCreate(id, create, streamSchema, staged));
  }

  /**
   * As {@link #append(TableId, ArrowReader, BufferAllocator, Runnable)} to {@code table} as loaded
   * (or as a transaction stages it, {@link TableTransaction#stage}).
   */
  public PutReceipt append(
      QuiverTable table, ArrowReader stream, BufferAllocator allocator, Runnable beforeCommit)
      throws IOException {
    Staged staged = writeCompatible(table.id(), table, stream, allocator);
    return commitOrDelete(
        table.id(), table.table(), staged, beforeCommit, () -> commitAppend(table.table(), staged));
  }

  /**
   * Replaces every row of an existing table with the rows of {@code stream}, as one atomic snapshot
   * (an Iceberg overwrite). The stream must fit the table's schema, as for an append;
   * TABLE_NOT_FOUND if the table does not exist. Files of earlier snapshots stay until expired.
   */
  public PutReceipt replace(TableId id, ArrowReader stream, BufferAllocator allocator)
      throws IOException {
    return replace(id, stream, allocator, () -> {});
  }

  /** As {@link #replace(TableId, ArrowReader, BufferAllocator)}, with a check before the commit. */
  public PutReceipt replace(
      TableId id, ArrowReader stream, BufferAllocator allocator, Runnable beforeCommit)
      throws IOException {
    return replace(load(id), stream, allocator, beforeCommit);
  }

  /** As {@link #replace(TableId, ArrowReader, BufferAllocator)}, of {@code table} as loaded. */
  public PutReceipt replace(
      QuiverTable table, ArrowReader stream, BufferAllocator allocator, Runnable beforeCommit)
      throws IOException {
    TableId id = table.id();
    Staged staged = writeCompatible(id, table, stream, allocator);
    staged(table.table()).ifPresent(t -> t.removedRows(table.table(), Expressions.alwaysTrue()));
    return commitOrDelete(
        id,
        table.table(),
        staged,
        beforeCommit,
        () -> {
          healMetadataCleanup(table.table());
          CommitCapture capture = new CommitCapture();
          org.apache.iceberg.OverwriteFiles overwrite =
              capture.reporting(table.table()).newOverwrite();
          overwrite.overwriteByRowFilter(Expressions.alwaysTrue());
          staged.dataFiles().forEach(overwrite::addFile);
          long snapshot = commit(table.table(), overwrite);
          capture.count(commitStats);
          return receipt(staged.files(), snapshot);
        });
  }

  // The reader's root holds the in-memory form; tables keep the message format.
  private static Schema streamSchema(ArrowReader stream) throws IOException {
    return ArrowSchemas.withoutFieldIds(
        ArrowSchemas.messageFormat(stream.getVectorSchemaRoot().getSchema(), stream));
  }

  /** Writes {@code stream} into new files of {@code table}, after checking it fits its schema. */
  private Staged writeCompatible(
      TableId id, QuiverTable table, ArrowReader stream, BufferAllocator allocator)
      throws IOException {
    ArrowSchemas.checkAppendCompatible(id, table.arrowSchema(), streamSchema(stream));
    return write(table.table(), stream, allocator, table.arrowSchema(), table.table().schema());
  }

  /**
   * Writes the stream into a new staging folder (and for a remote warehouse uploads the files to
   * the table's data location), registered as a live upload until {@link #commitOrDelete} has
   * committed or deleted it (or the write failed and deleted it).
   */
  private Staged write(
      Table table,
      ArrowReader stream,
      BufferAllocator allocator,
      Schema arrowSchema,
      org.apache.iceberg.Schema icebergSchema)
      throws IOException {
    return write(table, stream, allocator, arrowSchema, icebergSchema, table.spec(), null);
  }

  /**
   * As {@link #write(Table, ArrowReader, BufferAllocator, Schema, org.apache.iceberg.Schema)}, for
   * {@code spec}: rows routed to their partitions, or all into {@code partition} when it is not
   * null (a compaction of one partition's files).
   */
  private Staged write(
      Table table,
      ArrowReader stream,
      BufferAllocator allocator,
      Schema arrowSchema,
      org.apache.iceberg.Schema icebergSchema,
      PartitionSpec spec,
      StructLike partition)
      throws IOException {
    String put = "put-" + UUID.randomUUID();
    Staged staged = warehouse.stage(table.location(), put);
    liveUploads.addAll(staged.live());
    boolean written = false;
    try {
      List<WrittenFile> files;
      List<StructLike> partitions = new ArrayList<>();
      if (spec.isUnpartitioned()) {
        files =
            writer.write(
                stream, allocator, arrowSchema, icebergSchema, staged.folder(), writeOptions);
      } else if (partition != null) {
        files =
            writer.write(
                stream,
                allocator,
                arrowSchema,
                icebergSchema,
                staged.folder().resolve(spec.partitionToPath(partition)),
                writeOptions);
        files.forEach(f -> partitions.add(partition));
      } else {
        files = new ArrayList<>();
        PartitionedPut routed = new PartitionedPut(spec, icebergSchema, maxOpenPartitions);
        for (PartitionedPut.PartitionedFile f :
            routed.write(stream, allocator, arrowSchema, staged.folder(), writer, writeOptions)) {
          files.add(f.file());
          partitions.add(f.partition());
        }
        lastPeakOpenPartitions = routed.peakOpenFiles();
      }
      Staged uploaded = warehouse.upload(table.io(), staged, files).partitioned(spec, partitions);
      // With files, commitOrDelete unregisters the put after the commit; without, now.
      written = !files.isEmpty();
      return uploaded;
    } finally {
      if (!written) {
        warehouse.discard(table.io(), staged);
        liveUploads.removeAll(staged.live());
      }
    }
  }

  /**
   * Commits the staged files (under the commit lock), or deletes them (and their uploads) if the
   * commit fails; local staged copies of uploaded files go either way.
   */
  private PutReceipt commitOrDelete(
      TableId id,
      Table table,
      Staged staged,
      Runnable beforeCommit,
      java.util.function.Supplier<PutReceipt> commit)
      throws IOException {
    boolean committed = false;
    boolean keepFiles = false;
    boolean stagedInTransaction = false;
    Optional<TableTransaction> transaction = staged(table);
    commitLock.readLock().lock();
    try {
      beforeCommit.run();
      requireStaged(id, staged);
      PutReceipt receipt = commit.get();
      if (transaction.isPresent()) {
        // Staged, not published: the transaction keeps the files live until it ends.
        transaction.get().keep(table, staged);
        stagedInTransaction = true;
      } else {
        committed = true;
      }
      return receipt;
    } catch (CommitStateUnknownException e) {
      keepFiles = true;
      throw new QuiverException(
          QuiverErrorCode.CATALOG_UNAVAILABLE,
          e,
          "Cannot tell whether the put to table %s committed: the catalog database %s failed"
              + " during the commit (%s); read the table before retrying",
          id,
          catalogUri,
          CatalogConnection.rootMessage(e));
    } catch (CommitFailedException e) {
      int attempts = commitAttempts(id);
      commitStats.exhausted(attempts);
      throw new QuiverException(
          QuiverErrorCode.COMMIT_CONFLICT,
          e,
          "Cannot commit to table %s: other writers committed first on each of %d attempts;"
              + " nothing was committed, retry the put",
          id,
          attempts);
    } catch (RuntimeException e) {
      // A connection lost mid-commit may have lost it after the swap: keep the files (orphan
      // removal deletes them if no snapshot took them), as for an unknown commit state.
      keepFiles = CatalogConnection.unreachable(e).isPresent();
      throw catalogFailure(e, "commit to table " + id);
    } finally {
      commitLock.readLock().unlock();
      try {
        if (committed) {
          warehouse.committed(staged);
        } else if (!keepFiles && !stagedInTransaction) {
          warehouse.discard(table.io(), staged);
        }
      } finally {
        if (!stagedInTransaction) {
          liveUploads.removeAll(staged.live());
        }
      }
    }
  }

  /** A new transaction, named {@code name} in messages; see {@link TableTransaction}. */
  public TableTransaction newTransaction(String name) {
    return new TableTransaction(this, name);
  }

  void registerStaging(Table working, TableTransaction transaction) {
    staging.put(working, transaction);
  }

  void unregisterStaging(Table working) {
    staging.remove(working);
  }

  /** The transaction whose working table {@code table} is, if any. */
  private Optional<TableTransaction> staged(Table table) {
    return Optional.ofNullable(staging.get(table));
  }

  /**
   * Commits a transaction's net change to {@code base} as one snapshot: {@code added} data files
   * in, {@code removed} out, validated from {@code baseSnapshot} (0: the table's whole history)
   * with {@code conflictFilter} when the transaction removed rows (else a plain append, which
   * nothing conflicts with). COMMIT_CONFLICT naming the table and transaction when a concurrent
   * commit changed rows the transaction read; nothing is committed then.
   */
  PutReceipt commitStaged(TableTransaction.Change change, String transaction) {
    QuiverTable base = change.base();
    long baseSnapshot = change.baseSnapshot();
    List<DataFile> added = change.added();
    List<DataFile> removed = change.removed();
    Expression conflictFilter = change.conflictFilter();
    Table table = base.table();
    long rows = added.stream().mapToLong(DataFile::recordCount).sum();
    long bytes = added.stream().mapToLong(DataFile::fileSizeInBytes).sum();
    if (added.isEmpty() && removed.isEmpty()) {
      return new PutReceipt(0, 0, 0, baseSnapshot);
    }
    commitLock.readLock().lock();
    try {
      healMetadataCleanup(table);
      CommitCapture capture = new CommitCapture();
      long snapshot = commit(table, netChange(capture.reporting(table), change));
      capture.count(commitStats);
      return new PutReceipt(rows, bytes, added.size(), snapshot);
    } catch (ValidationException e) {
      throw new QuiverException(
          QuiverErrorCode.COMMIT_CONFLICT,
          e,
          "Cannot commit transaction %s to table %s: a concurrent commit changed rows it read"
              + " since snapshot %d (%s); nothing was committed, retry the transaction",
          transaction,
          base.id(),
          baseSnapshot,
          e.getMessage());
    } catch (CommitFailedException e) {
      int attempts = commitAttempts(base.id());
      commitStats.exhausted(attempts);
      throw new QuiverException(
          QuiverErrorCode.COMMIT_CONFLICT,
          e,
          "Cannot commit transaction %s to table %s: other writers committed first on each of %d"
              + " attempts; nothing was committed, retry the transaction",
          transaction,
          base.id(),
          attempts);
    } catch (CommitStateUnknownException e) {
      throw new QuiverException(
          QuiverErrorCode.CATALOG_UNAVAILABLE,
          e,
          "Cannot tell whether transaction %s committed to table %s: the catalog database %s"
              + " failed during the commit (%s); read the table before retrying",
          transaction,
          base.id(),
          catalogUri,
          CatalogConnection.rootMessage(e));
    } catch (RuntimeException e) {
      throw catalogFailure(e, "commit transaction " + transaction + " to table " + base.id());
    } finally {
      commitLock.readLock().unlock();
    }
  }

  /**
   * One table's net change in a transaction as an update of {@code table}: an append when the
   * transaction only added rows, else an overwrite validated from the snapshot it first read.
   */
  private static SnapshotUpdate<?> netChange(Table table, TableTransaction.Change change) {
    if (change.removed().isEmpty() && change.conflictFilter().op() == Expression.Operation.FALSE) {
      AppendFiles append = table.newAppend();
      change.added().forEach(append::appendFile);
      return append;
    }
    OverwriteFiles overwrite =
        validatedOverwrite(table, change.baseSnapshot(), change.conflictFilter(), change.removed());
    change.added().forEach(overwrite::addFile);
    return overwrite;
  }

  /**
   * Commits the net changes of a transaction to several tables together or not at all. Iceberg's
   * JdbcCatalog commits one table at a time (a compare-and-set of the table's {@code
   * metadata_location} row), so each table's snapshot is made and validated ({@code apply()}:
   * manifests and manifest list written, nothing committed) and its new metadata file written, then
   * every table's row is swapped in ONE catalog-database transaction, each with the same
   * compare-and-set: if any row moved since its table was read, the database transaction rolls back
   * and nothing is visible (COMMIT_CONFLICT naming the table). Files written for a failed commit
   * are left to orphan removal.
   */
  PutReceipt commitStagedTogether(List<TableTransaction.Change> changes, String transaction) {
    commitLock.readLock().lock();
    TableId current = null;
    try {
      List<MultiTableCommit.Swap> swaps = new ArrayList<>();
      long rows = 0;
      long bytes = 0;
      int files = 0;
      long lastSnapshot = 0;
      for (TableTransaction.Change change : changes) {
        current = change.base().id();
        if (change.added().isEmpty() && change.removed().isEmpty()) {
          continue;
        }
        Table table = change.base().table();
        SnapshotUpdate<?> update = netChange(table, change);
        tag(update);
        MultiTableCommit.Swap swap = MultiTableCommit.prepare(change.base().id(), table, update);
        swaps.add(swap);
        lastSnapshot = swap.snapshotId();
        rows += change.added().stream().mapToLong(DataFile::recordCount).sum();
        bytes += change.added().stream().mapToLong(DataFile::fileSizeInBytes).sum();
        files += change.added().size();
      }
      current = null;
      if (!swaps.isEmpty()) {
        catalogPool.run(
            connection -> {
              MultiTableCommit.swapAll(connection, catalog.name(), swaps, transaction);
              return null;
            });
        commitStats.committed(1);
        for (TableTransaction.Change change : changes) {
          try {
            change.base().table().refresh();
          } catch (RuntimeException e) {
            // Committed: a table seen stale here is loaded afresh by its next use.
            LOG.warn(
                "Table {}: refresh after a committed transaction failed", change.base().id(), e);
          }
        }
      }
      return new PutReceipt(rows, bytes, files, lastSnapshot);
    } catch (ValidationException e) {
      throw new QuiverException(
          QuiverErrorCode.COMMIT_CONFLICT,
          e,
          "Cannot commit transaction %s to table %s: a concurrent commit changed rows it read (%s);"
              + " nothing was committed to any table, retry the transaction",
          transaction,
          current,
          e.getMessage());
    } catch (java.sql.SQLException e) {
      throw catalogFailure(
          new UncheckedSQLException(e, "multi-table commit"), "commit transaction " + transaction);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, e, "Commit of transaction %s interrupted", transaction);
    } catch (RuntimeException e) {
      throw catalogFailure(e, "commit transaction " + transaction);
    } finally {
      commitLock.readLock().unlock();
    }
  }

  /**
   * After a transaction ends: its staged files go, but for those at {@code kept} (committed), and
   * they stop being live uploads.
   */
  void endStaging(Table working, List<Staged> files, Set<String> kept) throws IOException {
    IOException failure = null;
    for (Staged put : files) {
      try {
        boolean anyKept = put.locations().stream().anyMatch(kept::contains);
        if (!anyKept) {
          warehouse.discard(working.io(), put);
          continue;
        }
        for (int i = 0; i < put.files().size(); i++) {
          String location = put.locations().get(i);
          if (!kept.contains(location)) {
            working.io().deleteFile(location);
            if (warehouse.localFolder().isEmpty()) {
              Files.deleteIfExists(put.files().get(i).path());
            }
          }
        }
        warehouse.committed(put);
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      } finally {
        liveUploads.removeAll(put.live());
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Fails COMMIT_CONFLICT when a staged local file is gone: committing it would make a snapshot
   * that cannot be read. Only orphan removal on another node (past {@link #SHARED_MIN_ORPHAN_AGE})
   * or an operator deletes staged files. Uploaded files of a remote warehouse are not checked.
   */
  private void requireStaged(TableId id, Staged staged) {
    if (warehouse.localFolder().isEmpty()) {
      return;
    }
    for (WrittenFile f : staged.files()) {
      if (!Files.exists(f.path())) {
        throw new QuiverException(
            QuiverErrorCode.COMMIT_CONFLICT,
            "Cannot commit to table %s: its staged file %s is gone (removed as an orphan?);"
                + " nothing was committed, retry the put",
            id,
            f.path());
      }
    }
  }

  /** How many attempts a commit to {@code id} gets: 1 + its commit.retry.num-retries. */
  private int commitAttempts(TableId id) {
    try {
      return 1
          + Integer.parseInt(
              catalog
                  .loadTable(identifier(id))
                  .properties()
                  .getOrDefault(
                      TableProperties.COMMIT_NUM_RETRIES,
                      Integer.toString(TableProperties.COMMIT_NUM_RETRIES_DEFAULT)));
    } catch (RuntimeException e) {
      return 1 + TableProperties.COMMIT_NUM_RETRIES_DEFAULT;
    }
  }

  /**
   * {@code e} as CATALOG_UNAVAILABLE naming the catalog when the catalog database is out of reach,
   * else {@code e} itself.
   */
  private RuntimeException catalogFailure(RuntimeException e, String action) {
    if (e instanceof QuiverException) {
      return e;
    }
    return CatalogConnection.unreachable(e)
        .<RuntimeException>map(
            sql ->
                new QuiverException(
                    QuiverErrorCode.CATALOG_UNAVAILABLE,
                    e,
                    "Cannot %s: the catalog database %s is unavailable (%s); retry",
                    action,
                    catalogUri,
                    CatalogConnection.rootMessage(sql)))
        .orElse(e);
  }

  /** The store's commit counts, for metrics. */
  public CommitStats commitStats() {
    return commitStats;
  }

  private List<Namespace> listNamespaces() {
    try {
      return catalog.listNamespaces();
    } catch (RuntimeException e) {
      throw catalogFailure(e, "list namespaces");
    }
  }

  private List<TableIdentifier> listTables(Namespace ns) {
    try {
      return catalog.listTables(ns);
    } catch (RuntimeException e) {
      throw catalogFailure(e, "list the tables of " + ns);
    }
  }

  /**
   * Deletes the files under the warehouse that no table references and no running upload owns, last
   * modified before {@code cutoff}, and reports them. Commits wait while it runs (it holds the
   * commit lock for writing); puts keep streaming.
   */
  public OrphanReport removeOrphanFiles(Instant cutoff) throws IOException {
    return orphanFiles(cutoff, false);
  }

  /** What {@link #removeOrphanFiles} would delete now, deleting nothing. */
  public OrphanReport findOrphanFiles(Instant cutoff) throws IOException {
    return orphanFiles(cutoff, true);
  }

  private OrphanReport orphanFiles(Instant cutoff, boolean dryRun) throws IOException {
    commitLock.writeLock().lock();
    try {
      List<Table> tables = new ArrayList<>();
      for (Namespace ns : listNamespaces()) {
        for (TableIdentifier t : listTables(ns)) {
          try {
            tables.add(catalog.loadTable(t));
          } catch (NoSuchTableException dropped) {
            // Dropped meanwhile: its folder is gone or going with it.
          }
        }
      }
      // Open transactions' working tables reference their staged manifests and data files.
      synchronized (staging) {
        tables.addAll(staging.keySet());
      }
      Set<String> live = new HashSet<>(liveUploads);
      Instant effectiveCutoff = cutoff;
      if (shared) {
        // Other nodes' uploads and commits are invisible here: leave anything recent.
        Instant floor = Instant.now().minus(SHARED_MIN_ORPHAN_AGE);
        if (effectiveCutoff.isAfter(floor)) {
          effectiveCutoff = floor;
        }
        if (warehouse.localFolder().isPresent()) {
          for (Path folder :
              OrphanFiles.recentStagingFolders(warehouse.localFolder().get(), floor)) {
            live.add(folder.toString());
          }
        }
      }
      OrphanFiles.Result result =
          warehouse.removeOrphans(tables, Set.copyOf(live), effectiveCutoff, dryRun);
      if (!result.orphans().isEmpty()) {
        LOG.info(
            "{} {} orphan files ({} bytes) under {}",
            dryRun ? "Found" : "Removed",
            result.orphans().size(),
            result.orphans().stream().mapToLong(OrphanFiles.Orphan::bytes).sum(),
            warehouse.location());
      }
      return new OrphanReport(
          result.orphans().stream()
              .map(o -> new OrphanReport.File(o.path().toString(), o.bytes()))
              .toList(),
          tables.size(),
          result.skippedLive(),
          result.skippedYoung(),
          result.removedDirectories(),
          dryRun);
    } finally {
      commitLock.writeLock().unlock();
    }
  }

  /**
   * Expires the table's snapshots that stopped being current before {@code olderThan}, keeping at
   * least the {@code retainLast} most recent, and deletes the manifests, manifest lists and data
   * files that only expired snapshots reached; TABLE_NOT_FOUND if the table does not exist.
   *
   * <p>Safe with concurrent puts (Iceberg retries the commit on top of theirs) and orphan removal
   * (this holds the commit lock for reading). A read that started on a snapshot before {@code
   * olderThan} may lose its files: callers keep {@code olderThan} well in the past.
   */
  public ExpiryReport expireSnapshots(TableId id, Instant olderThan, int retainLast) {
    requireNonNull(olderThan, "olderThan is null");
    if (retainLast < 1) {
      throw new IllegalArgumentException("retainLast must be at least 1: " + retainLast);
    }
    Table table = load(id).table();
    synchronized (maintenanceLock) {
      commitLock.readLock().lock();
      try {
        healMetadataCleanup(table);
        return SnapshotExpiry.expire(id, table, olderThan, retainLast);
      } finally {
        commitLock.readLock().unlock();
      }
    }
  }

  /**
   * Replaces {@code replaced}, data files of {@code table}'s snapshot {@code snapshotId}, with new
   * files holding the rows of {@code rows}, as one Iceberg rewrite commit (compaction), which also
   * removes {@code obsoleteDeletes}, delete files that applied only to {@code replaced}.
   *
   * <p>{@code rows} must hold exactly the rows of {@code replaced} less those their deletes remove:
   * the row counts are checked before the commit (exactly for files without deletes, as an upper
   * bound for files with them). The commit is validated from {@code snapshotId}, so puts committed
   * meanwhile are kept and a change that removed one of {@code replaced} or added deletes to one
   * fails it with COMMIT_CONFLICT. On any failure the new files are deleted and nothing is
   * committed. The new files keep the sequence number of {@code snapshotId}, so they order before
   * rows put after it, and equality deletes committed up to it no longer apply to them. They keep
   * the spec and partition of {@code replaced}, which must all share one (IllegalArgumentException
   * otherwise).
   */
  public PutReceipt rewrite(
      QuiverTable table,
      long snapshotId,
      List<ScanFile> replaced,
      List<DeleteFile> obsoleteDeletes,
      ArrowReader rows,
      BufferAllocator allocator)
      throws IOException {
    Table iceberg = table.table();
    long sequenceNumber = table.snapshot(snapshotId).sequenceNumber();
    // The new files keep the spec and partition of the files they replace.
    DataFile firstReplaced = replaced.get(0).data();
    PartitionSpec spec = iceberg.specs().get(firstReplaced.specId());
    StructLike partition = spec.isUnpartitioned() ? null : firstReplaced.partition();
    for (ScanFile f : replaced) {
      if (f.data().specId() != spec.specId()
          || !spec.partitionToPath(f.data().partition()).equals(spec.partitionToPath(partition))) {
        throw new IllegalArgumentException(
            "Files to rewrite together must share a spec and a partition: "
                + f.data().location()
                + " does not");
      }
    }
    Staged staged =
        write(iceberg, rows, allocator, table.arrowSchema(), iceberg.schema(), spec, partition);
    long expected = replaced.stream().mapToLong(f -> f.data().recordCount()).sum();
    boolean exact = replaced.stream().noneMatch(ScanFile::hasDeletes);
    long actual = staged.files().stream().mapToLong(WrittenFile::rows).sum();
    synchronized (maintenanceLock) {
      return commitOrDelete(
          table.id(),
          iceberg,
          staged,
          () -> {}, // nothing to check before the commit: no client waits on it
          () -> {
            if (exact ? actual != expected : actual > expected) {
              throw new QuiverException(
                  QuiverErrorCode.INTERNAL,
                  "Cannot compact table %s: read %d rows from %d files that hold %d%s; nothing was"
                      + " changed",
                  table.id(),
                  actual,
                  replaced.size(),
                  expected,
                  exact ? "" : " before deletes");
            }
            RewriteFiles rewrite =
                iceberg
                    .newRewrite()
                    .validateFromSnapshot(snapshotId)
                    .dataSequenceNumber(sequenceNumber);
            replaced.forEach(f -> rewrite.deleteFile(f.data()));
            obsoleteDeletes.forEach(rewrite::deleteFile);
            staged.dataFiles().forEach(rewrite::addFile);
            try {
              return receipt(staged.files(), commit(iceberg, rewrite));
            } catch (ValidationException e) {
              throw new QuiverException(
                  QuiverErrorCode.COMMIT_CONFLICT,
                  e,
                  "Cannot compact table %s: it changed since snapshot %d (%s); nothing was changed,"
                      + " retry",
                  table.id(),
                  snapshotId,
                  e.getMessage());
            }
          });
    }
  }

  /**
   * Replaces {@code removed}, data files of {@code table}'s snapshot {@code readSnapshotId} (0 for
   * a table that had none), with new files holding the rows of {@code rows} (null: none), as one
   * Iceberg overwrite commit: a DELETE, UPDATE or MERGE rewritten copy-on-write.
   *
   * <p>The commit is validated from {@code readSnapshotId} with {@code conflictFilter}: a commit
   * made meanwhile that added rows the filter may match, removed one of {@code removed} or added
   * delete files fails it with COMMIT_CONFLICT naming the table, and one that did neither (an
   * append of other rows) is kept. When {@code expectedRows} is not negative, the rows written must
   * number exactly that, or nothing is committed (COMMIT_CONFLICT: what the statement read changed
   * while it ran). {@code beforeCommit} runs once the files are written, just before the commit. On
   * any failure the new files are deleted and nothing is committed.
   */
  public PutReceipt overwrite(
      QuiverTable table,
      long readSnapshotId,
      List<DataFile> removed,
      Expression conflictFilter,
      ArrowReader rows,
      long expectedRows,
      BufferAllocator allocator,
      Runnable beforeCommit)
      throws IOException {
    return overwrite(
        table,
        readSnapshotId,
        removed,
        conflictFilter,
        null,
        rows,
        expectedRows,
        allocator,
        beforeCommit);
  }

  /**
   * Writes the rows of {@code stream} (which must fit the table's schema, as for an append) into
   * new files of {@code table}, routed to its partitions, without committing them: a put whose
   * commit also removes rows ({@link #overwrite(QuiverTable, long, List, Expression, StagedPut,
   * ArrowReader, long, BufferAllocator, Runnable)}). The caller closes the result, which deletes
   * the files unless they were committed.
   */
  public StagedPut stage(QuiverTable table, ArrowReader stream, BufferAllocator allocator)
      throws IOException {
    return new StagedPut(table.table(), writeCompatible(table.id(), table, stream, allocator));
  }

  /**
   * As {@link #overwrite(QuiverTable, long, List, Expression, ArrowReader, long, BufferAllocator,
   * Runnable)}, also adding the files of {@code put} (null: none) in the same commit. The receipt
   * counts the rows, bytes and files of both.
   */
  public PutReceipt overwrite(
      QuiverTable table,
      long readSnapshotId,
      List<DataFile> removed,
      Expression conflictFilter,
      StagedPut put,
      ArrowReader rows,
      long expectedRows,
      BufferAllocator allocator,
      Runnable beforeCommit)
      throws IOException {
    Table iceberg = table.table();
    if (put != null && put.table != iceberg) {
      throw new IllegalArgumentException("The put was staged for another table than " + table.id());
    }
    Staged staged =
        rows == null
            ? warehouse.stage(iceberg.location(), "put-" + UUID.randomUUID())
            : write(iceberg, rows, allocator, table.arrowSchema(), iceberg.schema());
    long written = staged.files().stream().mapToLong(WrittenFile::rows).sum();
    staged(iceberg).ifPresent(t -> t.removedRows(iceberg, conflictFilter));
    List<WrittenFile> added = new ArrayList<>(staged.files());
    if (put != null) {
      added.addAll(put.staged.files());
    }
    boolean committed = false;
    try {
      PutReceipt receipt =
          commitOverwrite(
              table,
              readSnapshotId,
              removed,
              conflictFilter,
              put,
              staged,
              added,
              written,
              expectedRows,
              beforeCommit);
      committed = true;
      return receipt;
    } catch (QuiverException e) {
      if (put != null && e.code() == QuiverErrorCode.CATALOG_UNAVAILABLE) {
        put.keep(); // the commit may have taken them: orphan removal decides
      }
      throw e;
    } finally {
      if (committed && put != null) {
        put.committed();
      }
    }
  }

  private PutReceipt commitOverwrite(
      QuiverTable table,
      long readSnapshotId,
      List<DataFile> removed,
      Expression conflictFilter,
      StagedPut put,
      Staged staged,
      List<WrittenFile> added,
      long written,
      long expectedRows,
      Runnable beforeCommit)
      throws IOException {
    Table iceberg = table.table();
    return commitOrDelete(
        table.id(),
        iceberg,
        staged,
        () -> {
          if (put != null) {
            requireStaged(table.id(), put.staged);
          }
          if (expectedRows >= 0 && written != expectedRows) {
            throw new QuiverException(
                QuiverErrorCode.COMMIT_CONFLICT,
                "Cannot change table %s: the rows the statement read changed while it ran (%d"
                    + " rows to keep, %d written); nothing was changed, retry",
                table.id(),
                expectedRows,
                written);
          }
          beforeCommit.run();
        },
        () -> {
          healMetadataCleanup(iceberg);
          CommitCapture capture = new CommitCapture();
          OverwriteFiles overwrite =
              validatedOverwrite(
                  capture.reporting(iceberg), readSnapshotId, conflictFilter, removed);
          staged.dataFiles().forEach(overwrite::addFile);
          if (put != null) {
            put.staged.dataFiles().forEach(overwrite::addFile);
          }
          try {
            long snapshot = commit(iceberg, overwrite);
            capture.count(commitStats);
            return receipt(added, snapshot);
          } catch (ValidationException e) {
            throw new QuiverException(
                QuiverErrorCode.COMMIT_CONFLICT,
                e,
                "Cannot change table %s: a concurrent commit changed rows this statement read"
                    + " since snapshot %d (%s); nothing was changed, retry the statement",
                table.id(),
                readSnapshotId,
                e.getMessage());
          }
        });
  }

  /**
   * An overwrite of {@code table} removing {@code removed}, validated from {@code readSnapshotId}
   * with {@code conflictFilter}: it fails (ValidationException) when a commit since added rows the
   * filter may match, removed such files or added delete files.
   */
  private static OverwriteFiles validatedOverwrite(
      Table table, long readSnapshotId, Expression conflictFilter, List<DataFile> removed) {
    OverwriteFiles overwrite =
        table
            .newOverwrite()
            .conflictDetectionFilter(conflictFilter)
            .validateNoConflictingData()
            .validateNoConflictingDeletes();
    if (readSnapshotId != 0) {
      // 0: the table had no snapshot, so every commit since its creation is checked.
      overwrite.validateFromSnapshot(readSnapshotId);
    }
    removed.forEach(overwrite::deleteFile);
    return overwrite;
  }

  /**
   * Makes the table's partition spec exactly {@code terms} ({@code "day(ts)"}, {@code "bucket(16,
   * id)"}...; empty for unpartitioned) through Iceberg's partition spec evolution: files written
   * before keep their spec, puts from now on route rows by the new one. Returns the spec now
   * current. INVALID_ARGUMENT naming the column and transform for a term that does not fit the
   * schema, TABLE_NOT_FOUND, UNSUPPORTED_OPERATION for a table with dictionary-encoded columns
   * (puts cannot route them yet); nothing is committed on any failure.
   */
  public PartitionSpec setPartitioning(TableId id, List<String> terms) {
    return commitMetadata(
        id,
        "set the partitioning of table " + id,
        table -> {
          Table iceberg = table.table();
          List<PartitionTerms.PartitionTerm> parsed =
              PartitionTerms.parse(id, iceberg.schema(), table.arrowSchema(), terms);
          if (!parsed.isEmpty()) {
            List<String> dictionary =
                table.arrowSchema().getFields().stream()
                    .filter(f -> f.getDictionary() != null)
                    .map(org.apache.arrow.vector.types.pojo.Field::getName)
                    .toList();
            if (!dictionary.isEmpty()) {
              throw new QuiverException(
                  QuiverErrorCode.UNSUPPORTED_OPERATION,
                  "Cannot partition table %s: puts cannot route its dictionary-encoded columns"
                      + " (%s) to partitions yet",
                  id,
                  dictionary);
            }
          }
          org.apache.iceberg.UpdatePartitionSpec update = iceberg.updateSpec();
          if (PartitionTerms.apply(iceberg.spec(), iceberg.schema(), parsed, update)) {
            update.commit();
            LOG.info("Table {}: partitioning set to {}", id, terms);
          }
          return catalog.loadTable(identifier(id)).spec();
        },
        e -> String.format("Cannot partition table %s by %s: %s", id, terms, e.getMessage()));
  }

  /**
   * Commits a change of a table's metadata (no data files) under the commit lock: {@code commit}
   * checks the change against the table as loaded now (a QuiverException refuses it before anything
   * changes) and commits it. When another writer commits first, it runs again on the table
   * reloaded, 5 times at most, then COMMIT_CONFLICT naming {@code action}; Iceberg's own refusal
   * (IllegalArgumentException, ValidationException) is INVALID_ARGUMENT with {@code refused}'s
   * message.
   */
  private <T> T commitMetadata(
      TableId id,
      String action,
      java.util.function.Function<QuiverTable, T> commit,
      java.util.function.Function<RuntimeException, String> refused) {
    for (int attempt = 1; ; attempt++) {
      QuiverTable table = load(id);
      commitLock.readLock().lock();
      try {
        return commit.apply(table);
      } catch (CommitFailedException e) {
        if (attempt >= 5) {
          throw new QuiverException(
              QuiverErrorCode.COMMIT_CONFLICT,
              e,
              "Cannot %s: other writers committed first on each of %d attempts; nothing was"
                  + " changed, retry",
              action,
              attempt);
        }
      } catch (QuiverException e) {
        throw e;
      } catch (IllegalArgumentException | ValidationException e) {
        throw new QuiverException(QuiverErrorCode.INVALID_ARGUMENT, e, "%s", refused.apply(e));
      } catch (RuntimeException e) {
        throw catalogFailure(e, action);
      } finally {
        commitLock.readLock().unlock();
      }
    }
  }

  /**
   * Changes the table's schema as {@code change} says, in one Iceberg schema update that keeps
   * every column's field id, together with the table's Arrow schema property; returns the table as
   * it is after the change (unchanged when the change was a no-op). INVALID_ARGUMENT naming the
   * column for a change the table cannot take (see {@link SchemaEvolution}), TABLE_NOT_FOUND,
   * COMMIT_CONFLICT after repeated races; nothing is committed on any failure. Puts running
   * meanwhile commit as before: their files carry field ids, which reads go by once the schema has
   * changed.
   */
  public QuiverTable alterSchema(TableId id, SchemaChange change) {
    return commitMetadata(
        id,
        "change the schema of table " + id,
        table -> {
          Table iceberg = table.table();
          Optional<SchemaEvolution.Edit> edit = SchemaEvolution.plan(table, change, hasRows(table));
          if (edit.isEmpty()) {
            return table;
          }
          Transaction transaction = iceberg.newTransaction();
          UpdateSchema update = transaction.updateSchema();
          edit.get().update().accept(update);
          update.commit();
          if (iceberg.properties().containsKey(ARROW_SCHEMA_PROPERTY)) {
            transaction
                .updateProperties()
                .set(ARROW_SCHEMA_PROPERTY, edit.get().arrowSchema().toJson())
                .commit();
          }
          transaction.commitTransaction();
          LOG.info("Table {}: schema changed ({})", id, change);
          return load(id);
        },
        e ->
            String.format(
                "Cannot change column %s of table %s: %s", change.column(), id, e.getMessage()));
  }

  /**
   * A put's add_columns: adds the columns {@code stream} carries and the table lacks (after the
   * table's columns, in the stream's order) in one schema update, after checking that the stream
   * then fits the table, so a put that would be refused changes nothing. INVALID_ARGUMENT for a
   * missing column the stream has as not null. Nothing happens for a table that does not exist yet
   * (the put creates it) or lacks none of the stream's columns.
   */
  public void addMissingColumns(TableId id, ArrowReader stream) throws IOException {
    Optional<QuiverTable> found = find(id);
    if (found.isEmpty()) {
      return;
    }
    Schema streamSchema = streamSchema(stream);
    Set<String> names = new HashSet<>();
    found
        .get()
        .arrowSchema()
        .getFields()
        .forEach(f -> names.add(f.getName().toLowerCase(Locale.ROOT)));
    List<org.apache.arrow.vector.types.pojo.Field> added = new ArrayList<>();
    for (org.apache.arrow.vector.types.pojo.Field field : streamSchema.getFields()) {
      if (!names.contains(field.getName().toLowerCase(Locale.ROOT))) {
        if (!field.isNullable()) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot add column %s to table %s: add_columns adds nullable columns only, and the"
                  + " put has it not null",
              field.getName(),
              id);
        }
        added.add(field);
      }
    }
    if (added.isEmpty()) {
      return;
    }
    List<org.apache.arrow.vector.types.pojo.Field> after =
        new ArrayList<>(found.get().arrowSchema().getFields());
    after.addAll(added);
    ArrowSchemas.checkAppendCompatible(id, new Schema(after), streamSchema);
    alterSchema(id, new SchemaChange.AddColumns(added));
  }

  private static boolean hasRows(QuiverTable table) {
    Optional<Long> snapshot = table.currentSnapshotId();
    return snapshot.isPresent()
        && table.files(snapshot.get(), Expressions.alwaysTrue()).stream()
            .anyMatch(f -> f.data().recordCount() > 0);
  }

  /**
   * Sets how many partition spill files one put keeps open at once (storage.max-open-partitions);
   * past it the least recently used is closed, to be reopened when its partition comes back.
   */
  public void maxOpenPartitions(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("maxOpenPartitions must be at least 1: " + max);
    }
    this.maxOpenPartitions = max;
  }

  /** The most partition spill files the last partitioned put had open at once (for tests). */
  public int lastPeakOpenPartitions() {
    return lastPeakOpenPartitions;
  }

  /**
   * Sets {@link #METADATA_CLEANUP} on a table that lacks it (one made before Quiver set it), in a
   * commit of its own; the metadata files it kept so far go as later commits push them out.
   */
  private static void healMetadataCleanup(Table table) {
    Map<String, String> props = table.properties();
    if (METADATA_CLEANUP.entrySet().stream()
        .allMatch(e -> e.getValue().equals(props.get(e.getKey())))) {
      return;
    }
    org.apache.iceberg.UpdateProperties update = table.updateProperties();
    METADATA_CLEANUP.forEach(update::set);
    update.commit();
    LOG.info("Table {}: metadata cleanup set ({})", table.name(), METADATA_CLEANUP);
  }

  /** The staging folders and upload prefixes of the puts now writing or committing (a copy). */
  public Set<String> liveUploads() {
    return Set.copyOf(liveUploads);
  }

  private Transaction newTableTransaction(TableId id, Schema arrowSchema) {
    org.apache.iceberg.Schema icebergSchema = ArrowSchemas.toIceberg(arrowSchema);
    String location =
        warehouse.tableLocation(
            id.namespace(), id.name() + "-" + UUID.randomUUID().toString().substring(0, 8));
    Map<String, String> props = new HashMap<>();
    props.put(ARROW_SCHEMA_PROPERTY, arrowSchema.toJson());
    props.put(TableProperties.FORMAT_VERSION, needsV3(icebergSchema) ? "3" : "2");
    props.putAll(TABLE_DEFAULTS);
    props.put(
        TableProperties.PARQUET_COMPRESSION,
        writeOptions.compression().name().toLowerCase(java.util.Locale.ROOT));
    Transaction create =
        catalog.newCreateTableTransaction(
            identifier(id), icebergSchema, PartitionSpec.unpartitioned(), location, props);
    // The name mapping must use the ids Iceberg assigned, which only the transaction knows.
    create
        .updateProperties()
        .set(
            TableProperties.DEFAULT_NAME_MAPPING,
            NameMappingParser.toJson(MappingUtil.create(create.table().schema())))
        .commit();
    return create;
  }

  private PutReceipt commitAppend(Table table, Staged staged) {
    if (staged.files().isEmpty()) {
      long current = table.currentSnapshot() == null ? 0 : table.currentSnapshot().snapshotId();
      return new PutReceipt(0, 0, 0, current);
    }
    healMetadataCleanup(table);
    CommitCapture capture = new CommitCapture();
    AppendFiles append = capture.reporting(table).newAppend();
    staged.dataFiles().forEach(append::appendFile);
    long snapshot = commit(table, append);
    capture.count(commitStats);
    return receipt(staged.files(), snapshot);
  }

  /**
   * Commits {@code update} and returns the id of the snapshot it made. After a commit, Iceberg's
   * table may already show a later writer's snapshot as current, so the snapshot is found by a tag
   * of its own in its summary (as Iceberg's SnapshotProducer keeps its committed snapshot).
   */
  private static long commit(Table table, SnapshotUpdate<?> update) {
    String commitId = tag(update);
    update.commit();
    return snapshotTagged(table, commitId);
  }

  /** Tags {@code update}'s snapshot with a new commit id, which this returns. */
  private static String tag(SnapshotUpdate<?> update) {
    String commitId = UUID.randomUUID().toString();
    update.set(COMMIT_ID_PROPERTY, commitId);
    return commitId;
  }

  /** The snapshot tagged {@code commitId}, looked up from the current snapshot back. */
  private static long snapshotTagged(Table table, String commitId) {
    for (Snapshot s = table.currentSnapshot();
        s != null;
        s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      if (commitId.equals(s.summary().get(COMMIT_ID_PROPERTY))) {
        return s.snapshotId();
      }
    }
    throw new QuiverException(
        QuiverErrorCode.INTERNAL,
        "Committed to table %s but its snapshot %s=%s is not in the table's history",
        table.name(),
        COMMIT_ID_PROPERTY,
        commitId);
  }

  private PutReceipt commitCreate(
      TableId id, Transaction create, Schema arrowSchema, Staged staged) {
    createNamespace(id.namespace());
    List<WrittenFile> written = staged.files();
    try {
      if (written.isEmpty()) {
        create.commitTransaction();
        commitStats.committed(1);
        return receipt(written, 0);
      }
      AppendFiles append = create.newAppend();
      staged.dataFiles().forEach(append::appendFile);
      String commitId = tag(append);
      append.commit();
      create.commitTransaction();
      commitStats.committed(1);
      // Another put may append the moment the table exists: find ours by its tag, not as the
      // table's current snapshot.
      return receipt(written, snapshotTagged(catalog.loadTable(identifier(id)), commitId));
    } catch (AlreadyExistsException raced) {
      // Another put created the table first: append to it if our rows fit its schema. Our files
      // carry field ids from our own schema, which match only if the schemas are equal.
      QuiverTable winner = load(id);
      ArrowSchemas.checkAppendCompatible(id, winner.arrowSchema(), arrowSchema);
      if (!winner.table().schema().sameSchema(create.table().schema())) {
        throw new QuiverException(
            QuiverErrorCode.COMMIT_CONFLICT,
            "Table %s was created concurrently with a different schema; retry the put",
            id);
      }
      return commitAppend(winner.table(), staged);
    }
  }

  private void createNamespace(String namespace) {
    Namespace ns = Namespace.of(namespace);
    if (!catalog.namespaceExists(ns)) {
      try {
        catalog.createNamespace(ns);
      } catch (AlreadyExistsException | UncheckedSQLException raced) {
        // Created concurrently by another put: fine. (On SQLite the loser of that race gets a
        // primary-key violation as UncheckedSQLException rather than AlreadyExistsException;
        // found by eight concurrent first puts to one table, ClientFaultsTest.)
        if (!catalog.namespaceExists(ns)) {
          throw raced;
        }
      }
    }
  }

  /**
   * A put's rows written to files of its table but not committed ({@link #stage}): their local
   * paths are readable (by DuckDB) until the put is closed. Closing deletes the files unless a
   * commit took them. Not thread-safe.
   */
  public final class StagedPut implements AutoCloseable {
    private final Table table;
    private final Staged staged;
    private boolean done;

    private StagedPut(Table table, Staged staged) {
      this.table = table;
      this.staged = staged;
    }

    /** The local Parquet files holding the put's rows. */
    public List<Path> paths() {
      return staged.files().stream().map(WrittenFile::path).toList();
    }

    /** The put's rows. */
    public long rows() {
      return staged.files().stream().mapToLong(WrittenFile::rows).sum();
    }

    /** Each file's column bounds, keyed by Iceberg field id (Parquet statistics). */
    public List<org.apache.iceberg.Metrics> metrics() {
      return staged.files().stream().map(WrittenFile::metrics).toList();
    }

    private void committed() throws IOException {
      done = true;
      try {
        warehouse.committed(staged);
      } finally {
        liveUploads.removeAll(staged.live());
      }
    }

    private void keep() {
      done = true;
      liveUploads.removeAll(staged.live());
    }

    @Override
    public void close() throws IOException {
      if (done) {
        return;
      }
      done = true;
      try {
        warehouse.discard(table.io(), staged);
      } finally {
        liveUploads.removeAll(staged.live());
      }
    }
  }

  /**
   * The files of one put: where DuckDB wrote them ({@code folder}, local), where the table will
   * reference them ({@code locations}, in the same order), the folders and prefixes orphan removal
   * must leave while the put runs ({@code live}), and the spec they were written for with each
   * file's partition ({@code partitions}, in the same order; empty for an unpartitioned spec).
   */
  record Staged(
      Path folder,
      List<WrittenFile> files,
      List<String> locations,
      Set<String> live,
      PartitionSpec spec,
      List<StructLike> partitions) {
    Staged {
      files = List.copyOf(files);
      locations = List.copyOf(locations);
      live = Set.copyOf(live);
      partitions = List.copyOf(partitions);
      if (!partitions.isEmpty() && partitions.size() != files.size()) {
        throw new IllegalArgumentException(
            files.size() + " files but " + partitions.size() + " partitions");
      }
    }

    Staged(Path folder, List<WrittenFile> files, List<String> locations, Set<String> live) {
      this(folder, files, locations, live, PartitionSpec.unpartitioned(), List.of());
    }

    /** These files, written for {@code spec}, each in its partition. */
    Staged partitioned(PartitionSpec spec, List<StructLike> partitions) {
      return new Staged(folder, files, locations, live, spec, partitions);
    }

    List<DataFile> dataFiles() {
      List<DataFile> out = new ArrayList<>(files.size());
      for (int i = 0; i < files.size(); i++) {
        WrittenFile file = files.get(i);
        DataFiles.Builder builder =
            DataFiles.builder(spec)
                .withPath(locations.get(i))
                .withFileSizeInBytes(file.bytes())
                .withFormat(FileFormat.PARQUET)
                .withMetrics(file.metrics());
        if (!partitions.isEmpty()) {
          builder.withPartition(partitions.get(i));
        }
        out.add(builder.build());
      }
      return out;
    }
  }

  private static PutReceipt receipt(List<WrittenFile> written, long snapshotId) {
    long rows = 0;
    long bytes = 0;
    for (WrittenFile f : written) {
      rows += f.rows();
      bytes += f.bytes();
    }
    return new PutReceipt(rows, bytes, written.size(), snapshotId);
  }

  private static boolean needsV3(org.apache.iceberg.Schema schema) {
    return TypeUtil.indexById(schema.asStruct()).values().stream()
        .map(f -> f.type().typeId())
        .anyMatch(t -> t == Type.TypeID.TIMESTAMP_NANO);
  }

  private static QuiverTable wrap(TableId id, Table table) {
    String json = table.properties().get(ARROW_SCHEMA_PROPERTY);
    Schema arrow;
    try {
      // A table another engine created, or whose schema another engine changed since Quiver
      // wrote the property: its Arrow schema follows from its Iceberg schema.
      arrow = json == null ? null : Schema.fromJSON(json);
      if (arrow == null || !ArrowSchemas.fits(arrow, table.schema())) {
        arrow = ArrowSchemas.fromIceberg(id, table.schema());
      }
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Table %s has an unreadable Arrow schema property", id);
    }
    return new QuiverTable(id, table, arrow);
  }

  private static TableIdentifier identifier(TableId id) {
    return TableIdentifier.of(id.namespace(), id.name());
  }

  @Override
  public void close() throws IOException {
    try {
      catalog.close();
    } finally {
      warehouse.close();
    }
  }
}
