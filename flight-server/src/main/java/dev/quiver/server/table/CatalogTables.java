package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.function.Function;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.MetadataUpdate;
import org.apache.iceberg.RetryableValidationException;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateRequirement;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.LoadTableResponse;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.Tasks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's Iceberg catalog as other engines change it through the REST catalog: the same
 * JdbcCatalog as puts, commits under the store's commit lock (so orphan removal never runs across
 * one), retried as the table's {@code commit.retry.*} properties say and counted in the store's
 * {@link CommitStats}, as a put's are.
 *
 * <p>A table's files stay under its own location, which lies inside its namespace's folder of the
 * warehouse: {@link CommitLocations} checks every location a create, register or commit brings, and
 * one outside fails with PERMISSION_DENIED (403). Thread-safe.
 */
@ThreadSafe
public final class CatalogTables {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogTables.class);

  private final JdbcCatalog catalog;
  private final Warehouse warehouse;
  private final Lock commitLock;
  private final CommitStats stats;
  private final Function<RuntimeException, RuntimeException> failures;

  CatalogTables(
      JdbcCatalog catalog,
      Warehouse warehouse,
      Lock commitLock,
      CommitStats stats,
      Function<RuntimeException, RuntimeException> failures) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.warehouse = requireNonNull(warehouse, "warehouse is null");
    this.commitLock = requireNonNull(commitLock, "commitLock is null");
    this.stats = requireNonNull(stats, "stats is null");
    this.failures = requireNonNull(failures, "failures is null");
  }

  /**
   * Runs {@code operation} (a lookup, or a namespace change) against the catalog; a catalog
   * database out of reach fails it with CATALOG_UNAVAILABLE.
   */
  public <T> T run(Function<JdbcCatalog, T> operation) {
    try {
      return operation.apply(catalog);
    } catch (RuntimeException e) {
      throw failures.apply(e);
    }
  }

  /**
   * Creates a table as {@code request} asks (or, when it asks for a staged create, only works out
   * its metadata), with Quiver's table defaults under the request's properties and a location of
   * its own in the warehouse unless the request names one inside it.
   */
  public LoadTableResponse create(Namespace namespace, CreateTableRequest request) {
    CreateTableRequest placed = placed(namespace, request);
    if (request.stageCreate()) {
      return run(c -> CatalogHandlers.stageTableCreate(c, namespace, placed));
    }
    return committed(
        TableIdentifier.of(namespace, request.name()),
        () -> CatalogHandlers.createTable(catalog, namespace, placed));
  }

  /**
   * Registers the table whose metadata file {@code request} names, which must be in the warehouse.
   */
  public LoadTableResponse register(Namespace namespace, RegisterTableRequest request) {
    request.validate();
    TableIdentifier ident = TableIdentifier.of(namespace, request.name());
    String folder = namespaceFolder(ident);
    CommitLocations locations = new CommitLocations(ident, "register", warehouse.readIo());
    locations.checkMetadataFile(request.metadataLocation(), folder);
    TableMetadata metadata =
        run(c -> TableMetadataParser.read(warehouse.readIo(), request.metadataLocation()));
    locations.check(null, metadata, folder);
    return committed(ident, () -> CatalogHandlers.registerTable(catalog, namespace, request));
  }

  /**
   * Commits {@code request} to the table {@code ident}: checks its requirements against the table's
   * current metadata and applies its updates, retrying on top of other writers' commits (a put's,
   * another engine's) as the table's {@code commit.retry.*} properties say. A requirement that no
   * longer holds fails with Iceberg's CommitFailedException at once: the client refreshes and
   * retries. A create (the requirement that the table does not exist) commits the staged table.
   */
  public LoadTableResponse commit(TableIdentifier ident, UpdateTableRequest request) {
    String folder = namespaceFolder(ident);
    boolean create =
        request.requirements().stream()
            .anyMatch(UpdateRequirement.AssertTableDoesNotExist.class::isInstance);
    if (create) {
      new CommitLocations(ident, "create", warehouse.readIo())
          .check(null, created(request), folder);
      return committed(ident, () -> CatalogHandlers.updateTable(catalog, ident, request));
    }
    AtomicInteger attempts = new AtomicInteger();
    commitLock.lock();
    try {
      Table table = catalog.loadTable(ident);
      if (!(table instanceof HasTableOperations loaded)) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT, "Cannot commit to %s: not a table", ident);
      }
      TableOperations ops = loaded.operations();
      CommitLocations locations = new CommitLocations(ident, "commit to", ops.io());
      Map<String, String> props = ops.current().properties();
      Tasks.foreach(ops)
          .retry(
              PropertyUtil.propertyAsInt(
                  props,
                  TableProperties.COMMIT_NUM_RETRIES,
                  TableProperties.COMMIT_NUM_RETRIES_DEFAULT))
          .exponentialBackoff(
              PropertyUtil.propertyAsInt(
                  props,
                  TableProperties.COMMIT_MIN_RETRY_WAIT_MS,
                  TableProperties.COMMIT_MIN_RETRY_WAIT_MS_DEFAULT),
              PropertyUtil.propertyAsInt(
                  props,
                  TableProperties.COMMIT_MAX_RETRY_WAIT_MS,
                  TableProperties.COMMIT_MAX_RETRY_WAIT_MS_DEFAULT),
              PropertyUtil.propertyAsInt(
                  props,
                  TableProperties.COMMIT_TOTAL_RETRY_TIME_MS,
                  TableProperties.COMMIT_TOTAL_RETRY_TIME_MS_DEFAULT),
              2.0)
          .onlyRetryOn(CommitFailedException.class)
          .run(
              attempt ->
                  apply(attempt, request, attempts.incrementAndGet() == 1, locations, folder));
      stats.committed(attempts.get());
      LOG.debug("Committed to table {} through REST in {} attempts", ident, attempts.get());
      return LoadTableResponse.builder().withTableMetadata(ops.current()).build();
    } catch (RequirementFailed e) {
      throw e.failure;
    } catch (CommitFailedException e) {
      stats.exhausted(attempts.get());
      throw new CommitFailedException(
          e,
          "Cannot commit to table %s: other writers committed first on each of %d attempts",
          ident,
          attempts.get());
    } catch (RuntimeException e) {
      throw failures.apply(e);
    } finally {
      commitLock.unlock();
    }
  }

  /**
   * One attempt of {@link #commit}: on the current metadata, or refreshed after a lost race; the
   * locations it brings are checked against the metadata it applies to.
   */
  private static void apply(
      TableOperations ops,
      UpdateTableRequest request,
      boolean first,
      CommitLocations locations,
      String folder) {
    TableMetadata base = first ? ops.current() : ops.refresh();
    try {
      request.requirements().forEach(requirement -> requirement.validate(base));
    } catch (CommitFailedException e) {
      throw new RequirementFailed(e);
    }
    TableMetadata.Builder builder = TableMetadata.buildFrom(base);
    try {
      request.updates().forEach(update -> update.applyTo(builder));
    } catch (RetryableValidationException e) {
      // Stale values in the request itself (a sequence number behind the table): retrying here
      // cannot help; the client refreshes and retries.
      throw new RequirementFailed(
          new CommitFailedException(e, "Validation failed, please retry: %s", e.getMessage()));
    }
    TableMetadata updated = builder.build();
    locations.check(base, updated, folder);
    if (!updated.changes().isEmpty()) {
      ops.commit(base, updated);
    }
  }

  /** Renames table {@code from} to {@code to}; its files stay where they are. */
  public void rename(TableIdentifier from, TableIdentifier to) {
    committed(
        to,
        () -> {
          catalog.renameTable(from, to);
          return null;
        });
  }

  /** Drops the table from the catalog, leaving its files. */
  public void drop(TableIdentifier ident) {
    committed(
        ident,
        () -> {
          CatalogHandlers.dropTable(catalog, ident);
          return null;
        });
  }

  /**
   * Drops the table and deletes the files its metadata references under its location; any other
   * file it names is not Quiver's to delete and stays.
   */
  public void dropAndPurge(TableIdentifier ident) {
    committed(
        ident,
        () -> {
          Table table = catalog.loadTable(ident);
          if (!(table instanceof HasTableOperations loaded)) {
            throw new QuiverException(
                QuiverErrorCode.INVALID_ARGUMENT, "Cannot purge %s: not a table", ident);
          }
          TableMetadata metadata = loaded.operations().current();
          if (!catalog.dropTable(ident, false)) {
            throw new NoSuchTableException("Table does not exist: %s", ident);
          }
          CatalogUtil.dropTableData(
              CommitLocations.deletingOnlyUnder(table.io(), metadata.location()), metadata);
          return null;
        });
  }

  /** A one-attempt catalog change under the commit lock, counted as a commit. */
  private <T> T committed(TableIdentifier ident, java.util.function.Supplier<T> change) {
    commitLock.lock();
    try {
      T result = change.get();
      stats.committed(1);
      LOG.debug("Changed table {} through REST", ident);
      return result;
    } catch (RuntimeException e) {
      throw failures.apply(e);
    } finally {
      commitLock.unlock();
    }
  }

  /**
   * {@code request} with Quiver's defaults under its properties and a location in the warehouse.
   */
  private CreateTableRequest placed(Namespace namespace, CreateTableRequest request) {
    request.validate();
    TableIdentifier ident = TableIdentifier.of(namespace, request.name());
    String location = request.location();
    if (location == null) {
      location =
          warehouse.tableLocation(
              String.join("/", namespace.levels()),
              request.name() + "-" + UUID.randomUUID().toString().substring(0, 8));
    }
    Map<String, String> props = new HashMap<>(IcebergTableStore.TABLE_DEFAULTS);
    props.putAll(request.properties());
    new CommitLocations(ident, "create", warehouse.readIo())
        .checkPlacement(location, props, namespaceFolder(ident));
    CreateTableRequest.Builder placed =
        CreateTableRequest.builder()
            .withName(request.name())
            .withLocation(location)
            .withSchema(request.schema())
            .withPartitionSpec(request.spec())
            .withWriteOrder(request.writeOrder())
            .setProperties(props);
    if (request.stageCreate()) {
      placed.stageCreate();
    }
    return placed.build();
  }

  /** The folder of the warehouse that {@code ident}'s namespace's tables lie in. */
  private String namespaceFolder(TableIdentifier ident) {
    return warehouse.namespaceLocation(String.join("/", ident.namespace().levels()));
  }

  /**
   * The metadata a create commit (a staged create, a create transaction) makes, worked out as
   * CatalogHandlers does, so its locations are checked before anything is written.
   */
  private static TableMetadata created(UpdateTableRequest request) {
    TableMetadata.Builder builder =
        request.updates().stream()
            .filter(MetadataUpdate.UpgradeFormatVersion.class::isInstance)
            .map(u -> ((MetadataUpdate.UpgradeFormatVersion) u).formatVersion())
            .findFirst()
            .map(TableMetadata::buildFromEmpty)
            .orElseGet(TableMetadata::buildFromEmpty);
    request.updates().forEach(update -> update.applyTo(builder));
    return builder.build();
  }

  /** A requirement of the request failed: not a lost race, so not retried here. */
  private static final class RequirementFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient CommitFailedException failure;

    RequirementFailed(CommitFailedException failure) {
      super(failure.getMessage(), failure, false, false);
      this.failure = failure;
    }
  }
}
