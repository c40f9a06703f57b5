package dev.quiver.server;

import dev.quiver.client.QuiverException;
import dev.quiver.server.call.CallMiddleware;
import dev.quiver.server.cluster.ClusterDatabase;
import dev.quiver.server.cluster.ClusterNodes;
import dev.quiver.server.config.CommandLine;
import dev.quiver.server.config.DataFolderLock;
import dev.quiver.server.config.DataSize;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.config.StorageSettings;
import dev.quiver.server.flight.QuiverProducer;
import dev.quiver.server.flight.transport.MalformedMessages;
import dev.quiver.server.maintenance.MaintenanceTask;
import dev.quiver.server.maintenance.TableCompactor;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.rest.RestCatalogServer;
import dev.quiver.server.security.BearerTokens;
import dev.quiver.server.security.HashPassword;
import dev.quiver.server.security.ServerSecurity;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.ReadCache;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import dev.quiver.server.table.parquet.ParquetWriteOptions;
import dev.quiver.server.telemetry.GrpcStreamErrors;
import dev.quiver.server.telemetry.ReadCacheMetrics;
import dev.quiver.server.telemetry.StorageMetrics;
import dev.quiver.server.telemetry.Telemetry;
import dev.quiver.server.telemetry.TelemetryOptions;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.LocationSchemes;
import org.apache.arrow.util.AutoCloseables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Quiver server: wires configuration, memory, the table store and the Flight producer, and
 * serves Flight (and the gRPC health service) on one port.
 *
 * <p>{@link #close()} shuts down gracefully (running calls finish, bounded), then forcibly; closing
 * twice is harmless.
 */
public final class QuiverServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QuiverServer.class);
  private static final long DRAIN_SECONDS = 10;

  private final FlightServer flight;
  private final HealthStatusManager health;
  private final ExecutorService streams;
  private final IcebergTableStore store;
  private final MaintenanceTask maintenance;
  private final SqlEngine sql;
  private final DuckDbParquetWriter writer;
  private final MemoryGovernor memory;
  private final Telemetry telemetry;
  private final Location location;
  private final DataFolderLock lock;
  private final ClusterNodes cluster;
  private final Optional<RestCatalogServer> rest;
  private final QuiverProducer producer;
  private final AtomicBoolean closed = new AtomicBoolean();

  private QuiverServer(
      FlightServer flight,
      HealthStatusManager health,
      ExecutorService streams,
      IcebergTableStore store,
      MaintenanceTask maintenance,
      SqlEngine sql,
      DuckDbParquetWriter writer,
      MemoryGovernor memory,
      Telemetry telemetry,
      Location location,
      DataFolderLock lock,
      ClusterNodes cluster,
      Optional<RestCatalogServer> rest,
      QuiverProducer producer) {
    this.producer = producer;
    this.rest = rest;
    this.lock = lock;
    this.cluster = cluster;
    this.flight = flight;
    this.health = health;
    this.streams = streams;
    this.store = store;
    this.maintenance = maintenance;
    this.sql = sql;
    this.writer = writer;
    this.memory = memory;
    this.telemetry = telemetry;
    this.location = location;
  }

  /** Starts a server with {@code config}; the caller closes it. */
  public static QuiverServer start(ServerConfig config) throws IOException {
    return start(config, TelemetryOptions.DEFAULT);
  }

  /**
   * Starts a server with {@code config} and {@code telemetryOptions} added to the telemetry the
   * {@code OTEL_*} environment configures; the caller closes it.
   */
  public static QuiverServer start(ServerConfig config, TelemetryOptions telemetryOptions)
      throws IOException {
    Path dataDir = config.dataDir().toAbsolutePath().normalize();
    // First: a refused or unreadable security set-up stops the start before anything is opened.
    ServerSecurity checked = ServerSecurity.of(config);
    Files.createDirectories(dataDir);
    GrpcStreamErrors.install();
    // The JDK HTTP server (REST catalog, telemetry) writes a response's headers and body apart:
    // with Nagle's algorithm on, the client's delayed ACK holds the body back 40 ms (a REST
    // loadTable took 52 ms at p50 with it, see docs/architecture.md). Read once, at the JVM's
    // first JDK HTTP server.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    List<AutoCloseable> opened = new ArrayList<>();
    DataFolderLock lock = DataFolderLock.acquire(dataDir);
    opened.add(lock);
    try {
      // The catalog database holds the cluster's nodes and the key every node signs tokens with.
      ClusterDatabase clusterDatabase = ClusterDatabase.open(config.catalog(), dataDir);
      ServerSecurity security =
          checked.authenticates()
              ? ServerSecurity.of(config, clusterDatabase.tokenKey(BearerTokens.newKey()))
              : checked;
      MemoryGovernor memory =
          new MemoryGovernor(
              config.arrowMemory(), // memory.total less the DuckDBs' limits
              config.memory().queryLimit(),
              new MemoryGovernor.Admission(
                  config.memory().callReservation(),
                  config.memory().admissionQueue(),
                  config.memory().admissionTimeout()),
              config.memory().transportReserve());
      opened.add(memory);
      Telemetry telemetry =
          Telemetry.start(config.telemetry(), memory, telemetryOptions, security.statusAccess());
      opened.add(0, telemetry);
      Path spill = dataDir.resolve("tmp");
      Files.createDirectories(spill);
      DuckDbParquetWriter writer =
          new DuckDbParquetWriter(config.memory().duckdbMemoryLimit(), spill, memory.admission());
      opened.add(0, writer);
      ParquetWriteOptions writeOptions =
          new ParquetWriteOptions(
              ParquetWriteOptions.Compression.fromName(config.write().compression()),
              config.write().compressionLevel() == 0
                  ? OptionalInt.empty()
                  : OptionalInt.of(config.write().compressionLevel()),
              config.write().rowGroupRows(),
              config.write().targetFileBytes());
      IcebergTableStore store =
          IcebergTableStore.open(dataDir, config.storage(), config.catalog(), writer, writeOptions);
      opened.add(0, store);
      String warehouse = clusterDatabase.warehouse(store.warehouseLocation());
      if (!warehouse.equals(store.warehouseLocation())) {
        throw new IllegalArgumentException(
            String.format(
                "storage.warehouse is %s, but the tables of catalog %s (catalog.name=%s) live in"
                    + " %s: every node of a catalog must use the same warehouse; start with"
                    + " --storage.warehouse %s, or use another catalog.name",
                store.warehouseLocation(),
                config.catalog().printableUri(),
                config.catalog().name(),
                warehouse,
                warehouse));
      }
      store.maxOpenPartitions(config.partitions().maxOpenPartitions());
      if (store.readCache().isPresent()) {
        opened.add(0, ReadCacheMetrics.register(telemetry.meter(), store.readCache().get()));
      }
      opened.add(0, StorageMetrics.register(telemetry.meter(), store.storageIo()));
      telemetry
          .meter()
          .counterBuilder("quiver.commit.retries")
          .setUnit("{attempt}")
          .setDescription(
              "Commit attempts beyond the first: races lost to another writer (on any node), then"
                  + " retried")
          .buildWithCallback(m -> m.record(store.commitStats().retries()));
      Path sqlSpill = spill.resolve("sql");
      Files.createDirectories(sqlSpill);
      SqlEngine sql =
          SqlEngine.open(
              store,
              new SqlEngine.Settings(
                  config.sql().memoryLimit(),
                  config.sql().threads(),
                  config.sql().maxConcurrentQueries(),
                  config.memory().admissionQueue(),
                  config.memory().admissionTimeout(),
                  sqlSpill,
                  readableDirectories(dataDir, config.storage())),
              memory.newImportAllocator("SQL"),
              memory.admission());
      opened.add(0, sql);
      MaintenanceTask maintenance =
          MaintenanceTask.start(
              store,
              new TableCompactor(
                  store, sql, memory, config.write().targetFileBytes(), config.scan().batchRows()),
              config.maintenance(),
              telemetry.meter());
      opened.add(0, maintenance);
      telemetry.addStatusSection("maintenance", maintenance::status);
      ExecutorService streams = Executors.newCachedThreadPool(daemonThreads("quiver-stream"));
      opened.add(0, streams::shutdownNow);
      HealthStatusManager health = new HealthStatusManager();
      Location bind = security.location(config.flight().host(), config.flight().port());
      AtomicReference<String> uri = new AtomicReference<>("(starting)");
      ClusterNodes cluster = ClusterNodes.create(clusterDatabase, config.catalog().nodeTimeout());
      opened.add(0, cluster);
      telemetry.addStatusSection("nodes", () -> nodeStatus(cluster));
      CallMiddleware.Factory calls =
          new CallMiddleware.Factory(telemetry.tracer(), memory, sql.turns());
      QuiverProducer producer =
          new QuiverProducer(
              store, sql, memory, config, streams, uri::get, security.access(), calls, cluster);
      opened.add(0, producer);
      Consumer<NettyServerBuilder> addHealth =
          b -> {
            b.addService(health.getHealthService())
                .withChildOption(ChannelOption.ALLOCATOR, memory.transportBuffers());
            MalformedMessages.install(
                b, config.flight().putStallTimeout(), memory::roomToReadAhead);
          };
      FlightServer.Builder builder =
          FlightServer.builder(memory.transport(), bind, producer)
              .transportHint("grpc.builderConsumer", addHealth)
              .maxInboundMessageSize(config.limits().maxMessageBytes())
              .middleware(QuiverProducer.SESSION_KEY, QuiverProducer.sessionMiddleware());
      security.configure(builder);
      builder.middleware(CallMiddleware.KEY, calls);
      FlightServer flight = builder.build().start();
      opened.add(0, flight);
      Optional<RestCatalogServer> rest = Optional.empty();
      if (config.rest().enabled()) {
        rest = Optional.of(RestCatalogServer.start(config.rest(), store.catalogTables(), security));
        opened.add(0, rest.get());
      }
      Location location = security.location(config.flight().host(), flight.getPort());
      uri.set(uriOf(location));
      cluster.join(config.catalog().advertise().map(java.net.URI::toString).orElse(uri.get()));
      health.setStatus("", ServingStatus.SERVING);
      health.setStatus("arrow.flight.protocol.FlightService", ServingStatus.SERVING);
      return new QuiverServer(
          flight,
          health,
          streams,
          store,
          maintenance,
          sql,
          writer,
          memory,
          telemetry,
          location,
          lock,
          cluster,
          rest,
          producer);
    } catch (IOException | RuntimeException e) {
      try {
        AutoCloseables.close(opened);
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** Where clients reach this server. */
  public Location location() {
    return location;
  }

  public int port() {
    return flight.getPort();
  }

  /**
   * The address clients use, as pyarrow writes it: {@code grpc://host:port}, or {@code
   * grpc+tls://host:port} with TLS.
   */
  public String uri() {
    return uriOf(location);
  }

  private static String uriOf(Location location) {
    String scheme =
        location.getUri().getScheme().equals(LocationSchemes.GRPC_TLS) ? "grpc+tls" : "grpc";
    return scheme + "://" + location.getUri().getHost() + ":" + location.getUri().getPort();
  }

  /**
   * Where the Iceberg REST catalog is served ({@code http://host:port}, https with TLS), or empty
   * when {@code catalog.rest-port} is off.
   */
  public Optional<String> restCatalogUri() {
    return rest.map(RestCatalogServer::uri);
  }

  /** The server's memory governor, for diagnostics and tests that check calls release memory. */
  public MemoryGovernor memory() {
    return memory;
  }

  /** The live nodes for the status page: id, address, start and last heartbeat, this one marked. */
  private static List<Map<String, Object>> nodeStatus(ClusterNodes cluster) {
    List<Map<String, Object>> nodes = new ArrayList<>();
    for (ClusterDatabase.Node node : cluster.live()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", node.id());
      row.put("uri", node.uri());
      row.put("started_at_ms", node.startedAt().toEpochMilli());
      row.put("heartbeat_at_ms", node.heartbeatAt().toEpochMilli());
      row.put("self", node.id().equals(cluster.id()));
      nodes.add(row);
    }
    return nodes;
  }

  /** This node's cluster membership: its id and the live nodes, for diagnostics and tests. */
  public ClusterNodes cluster() {
    return cluster;
  }

  /** The server's table store, for tests that look at tables' specs, files and partitions. */
  public IcebergTableStore store() {
    return store;
  }

  /** The server's SQL engine, for diagnostics and tests that hold or watch its queries. */
  public SqlEngine sql() {
    return sql;
  }

  /** The read cache of a remote warehouse (its figures), or empty for a local warehouse. */
  public Optional<ReadCache> readCache() {
    return store.readCache();
  }

  /** The port of the telemetry endpoint (metrics, status page), or empty when it is off. */
  public OptionalInt telemetryPort() {
    return telemetry.httpPort();
  }

  /** The background maintenance policy, for tests that run it without waiting for its timer. */
  public MaintenanceTask maintenance() {
    return maintenance;
  }

  /** Blocks until the server has shut down. */
  public void awaitTermination() throws InterruptedException {
    flight.awaitTermination();
  }

  @Override
  public void close() throws Exception {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Leave the cluster first, so other nodes stop planning reads here while calls drain.
    cluster.close();
    // Stop taking catalog calls with the Flight calls: commits running finish (bounded).
    rest.ifPresent(RestCatalogServer::close);
    health.enterTerminalState();
    flight.shutdown();
    if (!flight.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
      LOG.warn("Calls still running after {} s; cancelling them", DRAIN_SECONDS);
    }
    // Cancels what is still running (a put whose client keeps the stream open, say); each call
    // then fails, deletes what it staged and closes its allocator.
    flight.close();
    streams.shutdown();
    if (!streams.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
      streams.shutdownNow();
    }
    if (!memory.awaitCallsClosed(Duration.ofSeconds(DRAIN_SECONDS))) {
      LOG.warn("Calls still hold Arrow memory {} s after being cancelled", DRAIN_SECONDS);
    }
    // The producer rolls back open transactions, which deletes their staged files.
    AutoCloseables.close(producer, maintenance, sql, store, writer, telemetry, memory, lock);
  }

  /** Whether {@code e} is a listening socket that could not bind (the port is taken). */
  static boolean bindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException) {
        return true;
      }
    }
    return false;
  }

  /** The folders SQL may read: the data folder, a local warehouse, the read cache. */
  private static List<Path> readableDirectories(Path dataDir, StorageSettings storage) {
    List<Path> dirs = new ArrayList<>(List.of(dataDir));
    storage.warehouse().ifPresent(dirs::add);
    if (storage.isRemote()) {
      dirs.add(storage.cacheDir());
    }
    return dirs;
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Starts the server from the command line and serves until SIGTERM or SIGINT. */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals(HashPassword.COMMAND)) {
      System.exit(HashPassword.run(Arrays.asList(args).subList(1, args.length)));
      return;
    }
    ServerConfig config;
    try {
      CommandLine cli = CommandLine.parse(Arrays.asList(args));
      if (cli.help()) {
        System.out.print(CommandLine.usage());
        return;
      }
      config = ServerConfig.load(cli.fileProperties(), System.getenv(), cli.flags());
    } catch (IllegalArgumentException e) {
      System.err.println("quiver: " + e.getMessage());
      System.exit(2);
      return;
    }
    QuiverServer server;
    try {
      server = start(config);
    } catch (IllegalArgumentException | QuiverException e) {
      // A refused configuration (binding beyond loopback without authentication, a bad users
      // file, a data folder another server holds, a warehouse bucket that is missing or refuses
      // the credentials, an unreachable catalog database): say why and stop, without a stack trace.
      System.err.println("quiver: " + e.getMessage());
      System.exit(2);
      return;
    } catch (IOException e) {
      if (bindFailure(e)) {
        System.err.printf(
            "quiver: cannot listen on %s:%d: the address is in use (flight.port)%n",
            config.flight().host(), config.flight().port());
        System.exit(1);
        return;
      }
      throw e;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (Exception e) {
                    LOG.error("Shutdown failed", e);
                  }
                },
                "quiver-shutdown"));
    LOG.info(
        "Data in {}; memory.total {} (Arrow {}, DuckDB writer {}, SQL {}), memory.query-limit {},"
            + " memory.call-reservation {}",
        config.dataDir().toAbsolutePath().normalize(),
        DataSize.format(config.memory().total()),
        DataSize.format(config.arrowMemory()),
        DataSize.format(config.memory().duckdbMemoryLimit()),
        DataSize.format(config.sql().memoryLimit()),
        DataSize.format(config.memory().queryLimit()),
        DataSize.format(config.memory().callReservation()));
    server
        .telemetryPort()
        .ifPresent(
            port ->
                LOG.info(
                    "Telemetry: status page http://{}:{}/, Prometheus metrics http://{}:{}/metrics",
                    config.telemetry().host(),
                    port,
                    config.telemetry().host(),
                    port));
    // Stdout, not the log: scripts and the integration tests wait for this exact line.
    System.out.println("Quiver listening on " + server.uri());
    System.out.flush();
    server.awaitTermination();
  }
}
