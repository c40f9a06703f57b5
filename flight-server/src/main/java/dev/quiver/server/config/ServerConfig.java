package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The server's whole configuration, immutable and validated.
 *
 * <p>Built by {@link #load} from a properties file, the environment ({@code QUIVER_*}) and
 * command-line flags: flags override the environment, which overrides the file. Unknown keys fail
 * the start, so a typo never silently runs with a default.
 *
 * @param dataDir the node's own folder: the SQLite catalog, local tables, staging, the read cache
 * @param flight the {@code flight.*} settings: the port, endpoints, stall timeouts
 * @param write the {@code storage.*} settings of how Parquet is written: codec, row groups, file
 *     size
 * @param scan the {@code scan.*} settings: batch sizes and the DoGet engine
 * @param memory the {@code memory.*} settings (and {@code duckdb.memory-limit}): the one budget and
 *     admission into it
 * @param sql the {@code sql.*} settings: the SQL engine's DuckDB
 * @param telemetry the {@code telemetry.*} settings
 * @param security the {@code security.*} settings: authentication, TLS
 * @param limits the {@code limits.*} settings: bounds on what clients send
 * @param storage the {@code storage.warehouse}, {@code storage.s3.*} and {@code storage.cache-*}
 *     settings: where table files live
 * @param catalog the {@code catalog.*}, {@code cluster.*} and {@code storage.catalog-busy-timeout}
 *     settings: the catalog database the nodes of a cluster share
 * @param maintenance the {@code maintenance.*} settings: background compaction and snapshot expiry
 * @param rest the {@code catalog.rest-*} settings: the Iceberg REST catalog
 * @param partitions the {@code storage.max-open-partitions} setting: puts to partitioned tables
 * @param transactions the {@code sql.transaction-timeout} and {@code sql.max-transactions-per-user}
 *     settings: Flight SQL transactions
 */
public record ServerConfig(
    Path dataDir,
    FlightSettings flight,
    WriteSettings write,
    ScanSettings scan,
    MemorySettings memory,
    SqlSettings sql,
    TelemetrySettings telemetry,
    SecuritySettings security,
    LimitSettings limits,
    StorageSettings storage,
    CatalogSettings catalog,
    MaintenanceSettings maintenance,
    RestSettings rest,
    PartitionSettings partitions,
    TransactionSettings transactions) {

  /** The least memory either DuckDB may be given: below it DuckDB cannot run a Parquet scan. */
  static final long MIN_DUCKDB_MEMORY = 16L * 1024 * 1024;

  public static final ConfigKey HOST =
      new ConfigKey("flight.host", "127.0.0.1", "Address the Flight server binds.");
  public static final ConfigKey PORT =
      new ConfigKey("flight.port", "8815", "Flight port; 0 picks a free port.");
  public static final ConfigKey ENDPOINT_TARGET_SIZE =
      new ConfigKey(
          "flight.endpoint-target-size",
          "256MB",
          "A scan is split into endpoints (tickets) of about this much Parquet data each.");
  public static final ConfigKey MAX_ENDPOINTS =
      new ConfigKey("flight.max-endpoints", "16", "The most endpoints one scan is split into.");
  public static final ConfigKey STALL_TIMEOUT =
      new ConfigKey(
          "flight.stall-timeout",
          "5m",
          "A DoGet whose client reads nothing for this long is cancelled (ms, s, m, h).");
  public static final ConfigKey PUT_STALL_TIMEOUT =
      new ConfigKey(
          "flight.put-stall-timeout",
          "5m",
          "A DoPut whose client sends nothing for this long (while the server waits for it) is"
              + " cancelled; nothing is committed.");
  public static final ConfigKey DATA_DIR =
      new ConfigKey(
          "storage.data-dir",
          "./quiver-data",
          "Folder for the SQLite catalog (catalog.db), the tables' files (unless storage.warehouse"
              + " is set), staging and the read cache.");
  public static final ConfigKey COMPRESSION =
      new ConfigKey(
          "storage.compression", "zstd", "Parquet codec: zstd, snappy, gzip, lz4 or uncompressed.");
  public static final ConfigKey COMPRESSION_LEVEL =
      new ConfigKey(
          "storage.compression-level",
          "0",
          "Codec level (zstd: 1-22); 0 is the default: zstd level 1, other codecs their own.");
  public static final ConfigKey ROW_GROUP_ROWS =
      new ConfigKey("storage.row-group-rows", "1048576", "Rows per Parquet row group.");
  public static final ConfigKey TARGET_FILE_SIZE =
      new ConfigKey(
          "storage.target-file-size", "512MB", "A put rolls to a new data file past this size.");
  public static final ConfigKey CATALOG_BUSY_TIMEOUT =
      new ConfigKey(
          "storage.catalog-busy-timeout",
          "30s",
          "How long a commit waits for the catalog database (SQLite) while another holds its lock;"
              + " then the call fails with UNAVAILABLE.");
  public static final ConfigKey SCAN_BATCH_ROWS =
      new ConfigKey("scan.batch-rows", "65536", "Rows per record batch a scan sends.");
  public static final ConfigKey SCAN_MIN_BATCH_ROWS =
      new ConfigKey(
          "scan.min-batch-rows",
          "4096",
          "Under memory pressure new scans send batches as small as this (capped at"
              + " scan.batch-rows).");
  public static final ConfigKey SCAN_ENGINE =
      new ConfigKey(
          "scan.engine",
          "duckdb",
          "What decodes a DoGet's Parquet: duckdb holds about one batch per scan;"
              + " arrow-dataset (Arrow C++) is faster but reads whole row groups ahead, up to"
              + " about 270MB per scan of 1Mi-row groups: raise memory.query-limit to match.");

  public static final ConfigKey HIGH_PRESSURE =
      new ConfigKey(
          "memory.high-pressure",
          "0.75",
          "Above this share of Arrow's memory in use, new scans get smaller batches.");
  public static final ConfigKey MEMORY_TOTAL =
      new ConfigKey(
          "memory.total",
          "auto",
          "Memory the server's data may take: Arrow (all calls and Flight's transport) plus"
              + " duckdb.memory-limit and sql.memory-limit, which are carved out of it; auto is"
              + " 3/4 of the JVM's direct memory for Arrow plus the two DuckDB limits.");
  public static final ConfigKey MEMORY_QUERY_LIMIT =
      new ConfigKey(
          "memory.query-limit",
          "256MB",
          "Arrow memory one call may hold (capped at Arrow's share of memory.total).");
  public static final ConfigKey CALL_RESERVATION =
      new ConfigKey(
          "memory.call-reservation",
          "1MB",
          "Arrow memory reserved for each call before it starts; a call that cannot get it waits.");
  public static final ConfigKey ADMISSION_QUEUE =
      new ConfigKey(
          "memory.admission-queue",
          "64",
          "The most calls that wait for memory at once; more are refused (0: never wait).");
  public static final ConfigKey ADMISSION_TIMEOUT =
      new ConfigKey(
          "memory.admission-timeout",
          "30s",
          "The longest a call waits for memory before it is refused with RESOURCE_EXHAUSTED: to"
              + " be admitted, and, once running, each time it waits for room for its next batch"
              + " or allocation.");
  public static final ConfigKey TRANSPORT_RESERVE =
      new ConfigKey(
          "memory.transport-reserve",
          "auto",
          "Part of Arrow's share of memory.total kept for Flight to decode incoming batches"
              + " before a put takes them (up to 6 per put); auto is a quarter of that share.");
  public static final ConfigKey DUCKDB_MEMORY_LIMIT =
      new ConfigKey(
          "duckdb.memory-limit",
          "auto",
          "Part of memory.total the Parquet writer's DuckDB may use before spilling to disk;"
              + " auto is an eighth of memory.total (of direct memory when memory.total is auto),"
              + " at least 16MB.");
  public static final ConfigKey SQL_MEMORY_LIMIT =
      new ConfigKey(
          "sql.memory-limit",
          "auto",
          "Part of memory.total SQL queries and DoGet scans (DuckDB) may use together before"
              + " spilling to <data-dir>/tmp/sql; auto as for duckdb.memory-limit.");
  public static final ConfigKey SQL_THREADS =
      new ConfigKey(
          "sql.threads",
          "auto",
          "Worker threads SQL queries and DoGet scans (DuckDB) share. auto is one fewer than the"
              + " cores (at least one), leaving a core to Flight's streams.");
  public static final ConfigKey SQL_MAX_CONCURRENT_QUERIES =
      new ConfigKey(
          "sql.max-concurrent-queries",
          "auto",
          "SQL queries and DoGet scans DuckDB runs at once; the rest wait for a turn as"
              + " memory.admission-queue and memory.admission-timeout allow. auto gives each 16MB"
              + " of sql.memory-limit (at least one).");

  /**
   * sql.threads when auto: one fewer than the cores, at least one. A DoGet's stream thread
   * serialises what DuckDB decodes, and gRPC's event loop sends it; on 2 cores a second DuckDB
   * thread cost more than it gave (benchmarks/README.md: 2.29 s of server CPU per 10 M-row mixed
   * DoGet with two, 1.51 s with one, and 0.65x to 0.78x the reference's MB/s).
   */
  static int autoSqlThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
  }

  /** The sql.memory-limit each running query gets when sql.max-concurrent-queries is auto. */
  static final long SQL_QUERY_MEMORY = 16L * 1024 * 1024;

  public static final ConfigKey TELEMETRY_ENABLED =
      new ConfigKey(
          "telemetry.enabled",
          "true",
          "Record OpenTelemetry spans and metrics; exporters follow the OTEL_* variables.");
  public static final ConfigKey TELEMETRY_HOST =
      new ConfigKey(
          "telemetry.host", "127.0.0.1", "Address the telemetry endpoint (metrics, status) binds.");
  public static final ConfigKey TELEMETRY_PROMETHEUS_PORT =
      new ConfigKey(
          "telemetry.prometheus-port",
          "off",
          "Port serving Prometheus /metrics and the status page /; off: none, 0: a free port.");
  public static final ConfigKey TELEMETRY_ALERT_INTERVAL =
      new ConfigKey(
          "telemetry.alert-interval", "15s", "How often the server evaluates its alert rules.");

  public static final ConfigKey USERS_FILE =
      new ConfigKey(
          "security.users-file",
          "none",
          "Users file (names, password hashes, grants); set, clients must authenticate.");
  public static final ConfigKey TOKEN_LIFETIME =
      new ConfigKey(
          "security.token-lifetime",
          "1h",
          "How long a bearer token is valid after it is issued; then clients log in again.");
  public static final ConfigKey LOGIN_MAX_FAILURES =
      new ConfigKey(
          "security.login-max-failures",
          "5",
          "This many failed logins in a row lock the user name for a while; 0: never.");
  public static final ConfigKey LOGIN_LOCKOUT =
      new ConfigKey(
          "security.login-lockout",
          "15m",
          "The longest a user name is locked after failed logins (1s, 2s, 4s, ... up to this).");
  public static final ConfigKey TLS_CERT =
      new ConfigKey(
          "security.tls-cert", "none", "Server certificate chain (PEM); set, Flight speaks TLS.");
  public static final ConfigKey TLS_KEY =
      new ConfigKey(
          "security.tls-key", "none", "Server private key (PEM, PKCS#8) for security.tls-cert.");
  public static final ConfigKey TLS_CLIENT_CA =
      new ConfigKey(
          "security.tls-client-ca",
          "none",
          "CA certificates (PEM) for client certificates; set, clients need one (mutual TLS).");
  public static final ConfigKey ALLOW_UNAUTHENTICATED_REMOTE =
      new ConfigKey(
          "security.allow-unauthenticated-remote",
          "false",
          "Let a server without security.users-file bind an address other than loopback.");
  public static final ConfigKey MAX_MESSAGE_SIZE =
      new ConfigKey(
          "limits.max-message-size",
          "256MB",
          "Largest gRPC message (one record batch) the server reads.");
  public static final ConfigKey MAX_PUT_BATCHES =
      new ConfigKey(
          "limits.max-put-batches", "1000000", "The most record batches one put may send.");
  public static final ConfigKey MAX_COLUMNS =
      new ConfigKey(
          "limits.max-columns", "4096", "The most top-level columns a put's schema may have.");
  public static final ConfigKey MAX_TICKET_SIZE =
      new ConfigKey("limits.max-ticket-size", "64KB", "Largest ticket DoGet accepts.");
  public static final ConfigKey MAX_ACTION_BODY =
      new ConfigKey("limits.max-action-body", "64KB", "Largest action body DoAction accepts.");
  public static final ConfigKey WAREHOUSE =
      new ConfigKey(
          "storage.warehouse",
          "auto",
          "Where table files live: a folder (auto: <data-dir>/warehouse) or s3://bucket/prefix.");
  public static final ConfigKey S3_ENDPOINT =
      new ConfigKey(
          "storage.s3.endpoint",
          "none",
          "S3 endpoint URI of an S3-compatible store; none for AWS. Credentials: AWS SDK chain.");
  public static final ConfigKey S3_REGION =
      new ConfigKey(
          "storage.s3.region", "none", "S3 region; none for the AWS SDK's default region chain.");
  public static final ConfigKey S3_PATH_STYLE_ACCESS =
      new ConfigKey(
          "storage.s3.path-style-access",
          "false",
          "Address buckets as endpoint/bucket (most S3-compatible stores need true).");
  public static final ConfigKey CACHE_DIR =
      new ConfigKey(
          "storage.cache-dir",
          "auto",
          "Folder of local copies of remote data files read (auto: <data-dir>/cache).");
  public static final ConfigKey CACHE_SIZE =
      new ConfigKey(
          "storage.cache-size",
          "1GB",
          "Disk the read-through cache of remote data files may use; least recently used go.");
  public static final ConfigKey MAINTENANCE_ENABLED =
      new ConfigKey(
          "maintenance.enabled",
          "true",
          "Run the background maintenance task (compaction and snapshot expiry for every table).");
  public static final ConfigKey MAINTENANCE_INTERVAL =
      new ConfigKey("maintenance.interval", "1m", "Pause between two background maintenance runs.");
  public static final ConfigKey MAINTENANCE_EXPIRE_AFTER =
      new ConfigKey(
          "maintenance.expire-after",
          "15m",
          "A snapshot expires this long after it stopped being current (reads of it that last"
              + " longer may fail).");
  public static final ConfigKey MAINTENANCE_RETAIN_LAST =
      new ConfigKey(
          "maintenance.retain-last",
          "10",
          "The most recent snapshots of each table that expiry keeps whatever their age.");
  public static final ConfigKey MAINTENANCE_COMPACT_MIN_FILES =
      new ConfigKey(
          "maintenance.compact-min-files",
          "16",
          "Compact a table once it has this many data files under half of storage.target-file-size;"
              + " 0 turns compaction off.");

  public static final ConfigKey MAX_OPEN_PARTITIONS =
      new ConfigKey(
          "storage.max-open-partitions",
          "64",
          "The most partition spill files one put to a partitioned table keeps open at once.");

  public static final ConfigKey TRANSACTION_TIMEOUT =
      new ConfigKey(
          "sql.transaction-timeout",
          "5m",
          "A Flight SQL transaction idle this long is rolled back and its staged files deleted.");
  public static final ConfigKey MAX_TRANSACTIONS_PER_USER =
      new ConfigKey(
          "sql.max-transactions-per-user",
          "8",
          "The most Flight SQL transactions one user may have open at once.");

  public static final ConfigKey CATALOG_URI =
      new ConfigKey(
          "catalog.uri",
          "auto",
          "JDBC URL of the Iceberg catalog database, e.g. jdbc:postgresql://host:5432/db; auto:"
              + " the SQLite file catalog.db in storage.data-dir. Nodes sharing it form a cluster.");
  public static final ConfigKey CATALOG_USER =
      new ConfigKey("catalog.user", "none", "User of the catalog database (PostgreSQL).");
  public static final ConfigKey CATALOG_PASSWORD =
      new ConfigKey(
          "catalog.password",
          "none",
          "Password of the catalog database; best set as QUIVER_CATALOG_PASSWORD. Never printed.");
  public static final ConfigKey CATALOG_NAME =
      new ConfigKey(
          "catalog.name",
          "quiver",
          "The Iceberg JdbcCatalog's catalog name; Trino and Spark must use the same one.");
  public static final ConfigKey CLUSTER_ADVERTISE =
      new ConfigKey(
          "cluster.advertise",
          "auto",
          "The grpc:// URI other nodes' plans give clients to reach this node; auto: the address"
              + " it binds (flight.host and its port).");
  public static final ConfigKey CLUSTER_NODE_TIMEOUT =
      new ConfigKey(
          "cluster.node-timeout",
          "30s",
          "A node that has not renewed its heartbeat in the catalog database for this long is"
              + " left out of new plans.");
  public static final ConfigKey CATALOG_REST_PORT =
      new ConfigKey(
          "catalog.rest-port",
          "off",
          "Port of the Iceberg REST catalog serving the tables to Trino, Spark, PyIceberg, DuckDB;"
              + " off: none, 0: a free port.");
  public static final ConfigKey CATALOG_REST_HOST =
      new ConfigKey("catalog.rest-host", "127.0.0.1", "Address the Iceberg REST catalog binds.");

  /** Every key, in the order {@code --help} lists them. */
  public static final List<ConfigKey> KEYS =
      List.of(
          HOST,
          PORT,
          ENDPOINT_TARGET_SIZE,
          MAX_ENDPOINTS,
          STALL_TIMEOUT,
          PUT_STALL_TIMEOUT,
          DATA_DIR,
          COMPRESSION,
          COMPRESSION_LEVEL,
          ROW_GROUP_ROWS,
          TARGET_FILE_SIZE,
          CATALOG_BUSY_TIMEOUT,
          SCAN_BATCH_ROWS,
          SCAN_MIN_BATCH_ROWS,
          SCAN_ENGINE,
          HIGH_PRESSURE,
          MEMORY_TOTAL,
          MEMORY_QUERY_LIMIT,
          CALL_RESERVATION,
          ADMISSION_QUEUE,
          ADMISSION_TIMEOUT,
          TRANSPORT_RESERVE,
          DUCKDB_MEMORY_LIMIT,
          SQL_MEMORY_LIMIT,
          SQL_THREADS,
          SQL_MAX_CONCURRENT_QUERIES,
          TELEMETRY_ENABLED,
          TELEMETRY_HOST,
          TELEMETRY_PROMETHEUS_PORT,
          TELEMETRY_ALERT_INTERVAL,
          USERS_FILE,
          TOKEN_LIFETIME,
          LOGIN_MAX_FAILURES,
          LOGIN_LOCKOUT,
          TLS_CERT,
          TLS_KEY,
          TLS_CLIENT_CA,
          ALLOW_UNAUTHENTICATED_REMOTE,
          MAX_MESSAGE_SIZE,
          MAX_PUT_BATCHES,
          MAX_COLUMNS,
          MAX_TICKET_SIZE,
          MAX_ACTION_BODY,
          WAREHOUSE,
          S3_ENDPOINT,
          S3_REGION,
          S3_PATH_STYLE_ACCESS,
          CACHE_DIR,
          CACHE_SIZE,
          CATALOG_URI,
          CATALOG_USER,
          CATALOG_PASSWORD,
          CATALOG_NAME,
          CLUSTER_ADVERTISE,
          CLUSTER_NODE_TIMEOUT,
          MAINTENANCE_ENABLED,
          MAINTENANCE_INTERVAL,
          MAINTENANCE_EXPIRE_AFTER,
          MAINTENANCE_RETAIN_LAST,
          MAINTENANCE_COMPACT_MIN_FILES,
          CATALOG_REST_PORT,
          CATALOG_REST_HOST,
          MAX_OPEN_PARTITIONS,
          TRANSACTION_TIMEOUT,
          MAX_TRANSACTIONS_PER_USER);

  private static final Set<String> CODECS = Set.of("zstd", "snappy", "gzip", "lz4", "uncompressed");

  public ServerConfig {
    requireNonNull(dataDir, "dataDir is null");
    requireNonNull(flight, "flight is null");
    requireNonNull(write, "write is null");
    requireNonNull(scan, "scan is null");
    requireNonNull(memory, "memory is null");
    requireNonNull(sql, "sql is null");
    check(flight.port() >= 0 && flight.port() <= 65535, PORT, flight.port());
    check(flight.endpointTargetBytes() > 0, ENDPOINT_TARGET_SIZE, flight.endpointTargetBytes());
    check(flight.maxEndpoints() >= 1, MAX_ENDPOINTS, flight.maxEndpoints());
    check(flight.stallTimeout().toMillis() > 0, STALL_TIMEOUT, flight.stallTimeout());
    check(flight.putStallTimeout().toMillis() > 0, PUT_STALL_TIMEOUT, flight.putStallTimeout());
    check(CODECS.contains(write.compression()), COMPRESSION, write.compression());
    check(
        write.compressionLevel() >= 0 && write.compressionLevel() <= 22,
        COMPRESSION_LEVEL,
        write.compressionLevel());
    check(write.rowGroupRows() > 0, ROW_GROUP_ROWS, write.rowGroupRows());
    check(write.targetFileBytes() >= 1024 * 1024, TARGET_FILE_SIZE, write.targetFileBytes());
    check(scan.batchRows() > 0, SCAN_BATCH_ROWS, scan.batchRows());
    check(scan.minBatchRows() > 0, SCAN_MIN_BATCH_ROWS, scan.minBatchRows());
    check(
        memory.highPressure() > 0 && memory.highPressure() <= 1,
        HIGH_PRESSURE,
        memory.highPressure());
    long total = memory.total();
    check(total > 0, MEMORY_TOTAL, total);
    check(memory.queryLimit() > 0, MEMORY_QUERY_LIMIT, memory.queryLimit());
    check(memory.callReservation() >= 0, CALL_RESERVATION, memory.callReservation());
    check(memory.admissionQueue() >= 0, ADMISSION_QUEUE, memory.admissionQueue());
    check(!memory.admissionTimeout().isNegative(), ADMISSION_TIMEOUT, memory.admissionTimeout());
    long duckdb = memory.duckdbMemoryLimit();
    long sqlLimit = sql.memoryLimit();
    check(duckdb >= MIN_DUCKDB_MEMORY, DUCKDB_MEMORY_LIMIT, duckdb);
    check(sqlLimit >= MIN_DUCKDB_MEMORY, SQL_MEMORY_LIMIT, sqlLimit);
    // Paced scans need little Arrow memory and much DuckDB memory, so DuckDB may take most of it.
    if (duckdb + sqlLimit > total - total / 8) {
      throw bad(
          MEMORY_TOTAL,
          DataSize.format(total),
          "duckdb.memory-limit ("
              + DataSize.format(duckdb)
              + ") and sql.memory-limit ("
              + DataSize.format(sqlLimit)
              + ") are carved out of memory.total and may take at most 7/8 of it; raise"
              + " memory.total or lower them");
    }
    long arrow = total - duckdb - sqlLimit;
    check(
        memory.transportReserve() >= 0 && memory.transportReserve() <= arrow / 2,
        TRANSPORT_RESERVE,
        memory.transportReserve()
            + " (at most half of Arrow's share of memory.total, "
            + arrow
            + " = memory.total - duckdb.memory-limit - sql.memory-limit)");
    check(sql.threads() >= 1 && sql.threads() <= 1024, SQL_THREADS, sql.threads());
    check(
        sql.maxConcurrentQueries() >= 1 && sql.maxConcurrentQueries() <= 1024,
        SQL_MAX_CONCURRENT_QUERIES,
        sql.maxConcurrentQueries());
    requireNonNull(telemetry, "telemetry is null");
    requireNonNull(security, "security is null");
    requireNonNull(limits, "limits is null");
    requireNonNull(storage, "storage is null");
    requireNonNull(catalog, "catalog is null");
    requireNonNull(maintenance, "maintenance is null");
    requireNonNull(partitions, "partitions is null");
    requireNonNull(transactions, "transactions is null");
    memory = memory.boundedBy(arrow);
  }

  /**
   * Arrow's share of memory.total: what is left after both DuckDBs' memory limits, the limit of the
   * root allocator all calls and Flight's transport draw from.
   */
  public long arrowMemory() {
    return memory.total() - memory.duckdbMemoryLimit() - sql.memoryLimit();
  }

  /** {@code QUIVER_*} variables that are bin/quiver's, not the server's: JVM flags. */
  private static final Set<String> LAUNCHER_ENV = Set.of("QUIVER_JAVA_OPTS");

  /** The configuration with every default. */
  public static ServerConfig defaults() {
    return load(Map.of(), Map.of(), Map.of());
  }

  /**
   * Builds the configuration from the three sources, later ones winning.
   *
   * @param file properties read from {@code --config}, or empty
   * @param env the process environment; only {@code QUIVER_*} variables are read, except
   *     bin/quiver's {@code QUIVER_JAVA_OPTS}
   * @param flags key to value from the command line
   * @throws IllegalArgumentException naming every unknown key, or the first bad value
   */
  public static ServerConfig load(
      Map<String, String> file, Map<String, String> env, Map<String, String> flags) {
    Map<String, String> values = new HashMap<>();
    for (ConfigKey key : KEYS) {
      values.put(key.name(), key.defaultValue());
    }
    List<String> unknown = new ArrayList<>();
    file.forEach((k, v) -> put(values, k, v, "in the config file", unknown));
    Map<String, ConfigKey> byEnv = new HashMap<>();
    KEYS.forEach(k -> byEnv.put(k.envName(), k));
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(env).entrySet()) {
      if (!e.getKey().startsWith("QUIVER_") || LAUNCHER_ENV.contains(e.getKey())) {
        continue;
      }
      ConfigKey key = byEnv.get(e.getKey());
      if (key == null) {
        unknown.add(e.getKey() + " (environment)");
      } else {
        values.put(key.name(), e.getValue().trim());
      }
    }
    flags.forEach((k, v) -> put(values, k, v, "on the command line", unknown));
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "Unknown configuration keys: " + String.join(", ", unknown) + "; known keys: " + names());
    }
    return fromValues(values);
  }

  private static void put(
      Map<String, String> values, String key, String value, String where, List<String> unknown) {
    if (!values.containsKey(key)) {
      unknown.add(key + " (" + where + ")");
    } else {
      values.put(key, value.trim());
    }
  }

  private static ServerConfig fromValues(Map<String, String> v) {
    boolean autoTotal = v.get(MEMORY_TOTAL.name()).equalsIgnoreCase("auto");
    // With memory.total auto, Arrow keeps 3/4 of direct memory and each DuckDB's auto limit is an
    // eighth of direct memory, added on top; otherwise the DuckDBs' limits come out of the total.
    long base = autoTotal ? autoDirectMemory() : size(v, MEMORY_TOTAL);
    long duckdb = duckdbLimit(v, DUCKDB_MEMORY_LIMIT, base);
    long sql = duckdbLimit(v, SQL_MEMORY_LIMIT, base);
    long total = autoTotal ? base / 4 * 3 + duckdb + sql : base;
    long arrow = total - duckdb - sql;
    return new ServerConfig(
        Path.of(v.get(DATA_DIR.name())),
        new FlightSettings(
            v.get(HOST.name()),
            integer(v, PORT),
            size(v, ENDPOINT_TARGET_SIZE),
            integer(v, MAX_ENDPOINTS),
            duration(v, STALL_TIMEOUT),
            duration(v, PUT_STALL_TIMEOUT)),
        new WriteSettings(
            v.get(COMPRESSION.name()).toLowerCase(Locale.ROOT),
            integer(v, COMPRESSION_LEVEL),
            longValue(v, ROW_GROUP_ROWS),
            size(v, TARGET_FILE_SIZE)),
        new ScanSettings(
            integer(v, SCAN_BATCH_ROWS),
            integer(v, SCAN_MIN_BATCH_ROWS),
            ScanEngine.fromName(v.get(SCAN_ENGINE.name()))
                .orElseThrow(
                    () ->
                        bad(
                            SCAN_ENGINE,
                            v.get(SCAN_ENGINE.name()),
                            "it is not duckdb or arrow-dataset: " + SCAN_ENGINE.description()))),
        new MemorySettings(
            total,
            size(v, MEMORY_QUERY_LIMIT),
            size(v, CALL_RESERVATION),
            integer(v, ADMISSION_QUEUE),
            duration(v, ADMISSION_TIMEOUT),
            v.get(TRANSPORT_RESERVE.name()).equalsIgnoreCase("auto")
                ? Math.max(0, arrow / 4)
                : size(v, TRANSPORT_RESERVE),
            fraction(v, HIGH_PRESSURE),
            duckdb),
        new SqlSettings(
            sql,
            v.get(SQL_THREADS.name()).equalsIgnoreCase("auto")
                ? autoSqlThreads()
                : integer(v, SQL_THREADS),
            v.get(SQL_MAX_CONCURRENT_QUERIES.name()).equalsIgnoreCase("auto")
                ? (int) Math.max(1, Math.min(1024, sql / SQL_QUERY_MEMORY))
                : integer(v, SQL_MAX_CONCURRENT_QUERIES)),
        telemetry(v),
        security(v),
        limits(v),
        storage(v),
        catalog(v),
        maintenance(v),
        rest(v),
        partitions(v),
        transactions(v));
  }

  private static RestSettings rest(Map<String, String> v) {
    String port = v.get(CATALOG_REST_PORT.name()).toLowerCase(Locale.ROOT);
    OptionalInt number = OptionalInt.empty();
    if (!port.equals("off")) {
      int n = integer(v, CATALOG_REST_PORT);
      check(n >= 0 && n <= 65535, CATALOG_REST_PORT, n);
      number = OptionalInt.of(n);
    }
    String host = v.get(CATALOG_REST_HOST.name());
    check(!host.isBlank(), CATALOG_REST_HOST, host);
    return new RestSettings(number, host);
  }

  private static TransactionSettings transactions(Map<String, String> v) {
    Duration timeout = duration(v, TRANSACTION_TIMEOUT);
    check(timeout.toMillis() > 0, TRANSACTION_TIMEOUT, v.get(TRANSACTION_TIMEOUT.name()));
    int max = integer(v, MAX_TRANSACTIONS_PER_USER);
    check(max >= 1, MAX_TRANSACTIONS_PER_USER, max);
    return new TransactionSettings(timeout, max);
  }

  private static PartitionSettings partitions(Map<String, String> v) {
    int max = integer(v, MAX_OPEN_PARTITIONS);
    check(max >= 1, MAX_OPEN_PARTITIONS, max);
    return new PartitionSettings(max);
  }

  private static CatalogSettings catalog(Map<String, String> v) {
    String uri = v.get(CATALOG_URI.name());
    String advertise = v.get(CLUSTER_ADVERTISE.name());
    Duration busyTimeout = duration(v, CATALOG_BUSY_TIMEOUT);
    check(
        busyTimeout.toMillis() >= 1 && busyTimeout.toMillis() <= Integer.MAX_VALUE,
        CATALOG_BUSY_TIMEOUT,
        busyTimeout);
    try {
      return new CatalogSettings(
          uri.isEmpty() || uri.equalsIgnoreCase("auto")
              ? java.util.Optional.empty()
              : java.util.Optional.of(uri),
          unset(v, CATALOG_USER, "none"),
          unset(v, CATALOG_PASSWORD, "none"),
          v.get(CATALOG_NAME.name()),
          advertise.isEmpty() || advertise.equalsIgnoreCase("auto")
              ? java.util.Optional.empty()
              : java.util.Optional.of(java.net.URI.create(advertise)),
          duration(v, CLUSTER_NODE_TIMEOUT),
          busyTimeout);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid catalog settings: " + e.getMessage(), e);
    }
  }

  /** The key's value, or empty when it is {@code unset} (auto, none) or empty. */
  private static String unset(Map<String, String> v, ConfigKey key, String unset) {
    String value = v.get(key.name());
    return value.equalsIgnoreCase(unset) ? "" : value;
  }

  private static StorageSettings storage(Map<String, String> v) {
    Path dataDir = Path.of(v.get(DATA_DIR.name()));
    String warehouse = unset(v, WAREHOUSE, "auto");
    boolean remote = warehouse.startsWith("s3://");
    if (warehouse.contains("://") && !remote) {
      throw bad(WAREHOUSE, warehouse, "use a folder or s3://bucket/prefix");
    }
    java.util.Optional<java.net.URI> endpoint = java.util.Optional.empty();
    String endpointText = unset(v, S3_ENDPOINT, "none");
    if (!endpointText.isEmpty()) {
      try {
        java.net.URI uri = new java.net.URI(endpointText);
        if (uri.getHost() == null
            || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
          throw bad(S3_ENDPOINT, endpointText, "use http://host:port or https://host:port");
        }
        endpoint = java.util.Optional.of(uri);
      } catch (java.net.URISyntaxException e) {
        throw bad(S3_ENDPOINT, endpointText, e.getMessage());
      }
    }
    String pathStyle = v.get(S3_PATH_STYLE_ACCESS.name()).toLowerCase(Locale.ROOT);
    if (!pathStyle.equals("true") && !pathStyle.equals("false")) {
      throw bad(S3_PATH_STYLE_ACCESS, pathStyle, "use true or false");
    }
    String cacheDir = unset(v, CACHE_DIR, "auto");
    long cacheBytes = size(v, CACHE_SIZE);
    check(cacheBytes >= 1, CACHE_SIZE, cacheBytes);
    try {
      return new StorageSettings(
          remote
              ? java.util.Optional.empty()
              : java.util.Optional.of(
                  warehouse.isEmpty() ? dataDir.resolve("warehouse") : Path.of(warehouse)),
          remote
              ? java.util.Optional.of(java.net.URI.create(warehouse))
              : java.util.Optional.empty(),
          endpoint,
          java.util.Optional.of(unset(v, S3_REGION, "none")).filter(r -> !r.isEmpty()),
          pathStyle.equals("true"),
          cacheDir.isEmpty() ? dataDir.resolve("cache") : Path.of(cacheDir),
          cacheBytes);
    } catch (IllegalArgumentException e) {
      throw bad(WAREHOUSE, warehouse, e.getMessage());
    }
  }

  private static MaintenanceSettings maintenance(Map<String, String> v) {
    String enabled = v.get(MAINTENANCE_ENABLED.name()).toLowerCase(Locale.ROOT);
    if (!enabled.equals("true") && !enabled.equals("false")) {
      throw bad(MAINTENANCE_ENABLED, enabled, "use true or false");
    }
    Duration interval = duration(v, MAINTENANCE_INTERVAL);
    check(interval.toMillis() > 0, MAINTENANCE_INTERVAL, interval);
    int retainLast = integer(v, MAINTENANCE_RETAIN_LAST);
    check(retainLast >= 1, MAINTENANCE_RETAIN_LAST, retainLast);
    int compactMinFiles = integer(v, MAINTENANCE_COMPACT_MIN_FILES);
    check(
        compactMinFiles == 0 || compactMinFiles >= 2,
        MAINTENANCE_COMPACT_MIN_FILES,
        compactMinFiles);
    return new MaintenanceSettings(
        enabled.equals("true"),
        interval,
        duration(v, MAINTENANCE_EXPIRE_AFTER),
        retainLast,
        compactMinFiles);
  }

  private static SecuritySettings security(Map<String, String> v) {
    Duration lifetime = duration(v, TOKEN_LIFETIME);
    check(lifetime.toMillis() > 0, TOKEN_LIFETIME, v.get(TOKEN_LIFETIME.name()));
    String allow = v.get(ALLOW_UNAUTHENTICATED_REMOTE.name()).toLowerCase(Locale.ROOT);
    if (!allow.equals("true") && !allow.equals("false")) {
      throw bad(ALLOW_UNAUTHENTICATED_REMOTE, allow, "use true or false");
    }
    try {
      return new SecuritySettings(
          path(v, USERS_FILE),
          lifetime,
          path(v, TLS_CERT),
          path(v, TLS_KEY),
          path(v, TLS_CLIENT_CA),
          allow.equals("true"),
          integer(v, LOGIN_MAX_FAILURES),
          duration(v, LOGIN_LOCKOUT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid security settings: " + e.getMessage(), e);
    }
  }

  private static java.util.Optional<Path> path(Map<String, String> v, ConfigKey key) {
    String text = v.get(key.name());
    return text.isEmpty() || text.equalsIgnoreCase("none")
        ? java.util.Optional.empty()
        : java.util.Optional.of(Path.of(text));
  }

  private static LimitSettings limits(Map<String, String> v) {
    long message = size(v, MAX_MESSAGE_SIZE);
    check(message >= 1024 && message <= Integer.MAX_VALUE, MAX_MESSAGE_SIZE, message);
    long batches = longValue(v, MAX_PUT_BATCHES);
    check(batches >= 1, MAX_PUT_BATCHES, batches);
    int columns = integer(v, MAX_COLUMNS);
    check(columns >= 1, MAX_COLUMNS, columns);
    long ticket = size(v, MAX_TICKET_SIZE);
    check(ticket >= 256 && ticket <= message, MAX_TICKET_SIZE, ticket);
    long body = size(v, MAX_ACTION_BODY);
    check(body >= 256 && body <= message, MAX_ACTION_BODY, body);
    return new LimitSettings((int) message, batches, columns, (int) ticket, (int) body);
  }

  private static TelemetrySettings telemetry(Map<String, String> v) {
    String enabled = v.get(TELEMETRY_ENABLED.name()).toLowerCase(Locale.ROOT);
    if (!enabled.equals("true") && !enabled.equals("false")) {
      throw bad(TELEMETRY_ENABLED, enabled, "use true or false");
    }
    String port = v.get(TELEMETRY_PROMETHEUS_PORT.name()).toLowerCase(Locale.ROOT);
    OptionalInt portNumber = OptionalInt.empty();
    if (!port.equals("off")) {
      int number = integer(v, TELEMETRY_PROMETHEUS_PORT);
      check(number >= 0 && number <= 65535, TELEMETRY_PROMETHEUS_PORT, number);
      portNumber = OptionalInt.of(number);
    }
    Duration interval = duration(v, TELEMETRY_ALERT_INTERVAL);
    check(interval.toMillis() > 0, TELEMETRY_ALERT_INTERVAL, interval);
    return new TelemetrySettings(
        enabled.equals("true"), v.get(TELEMETRY_HOST.name()), portNumber, interval);
  }

  /** A DuckDB memory limit: the value, or for auto an eighth of {@code base}, at least 16MB. */
  private static long duckdbLimit(Map<String, String> v, ConfigKey key, long base) {
    return v.get(key.name()).equalsIgnoreCase("auto")
        ? Math.max(MIN_DUCKDB_MEMORY, base / 8)
        : size(v, key);
  }

  /** The direct memory the JVM allows (Arrow allocates direct memory). */
  private static long autoDirectMemory() {
    long direct = io.netty.util.internal.PlatformDependent.maxDirectMemory();
    return direct > 0 ? direct : Runtime.getRuntime().maxMemory();
  }

  private static int integer(Map<String, String> v, ConfigKey key) {
    long value = longValue(v, key);
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw bad(key, v.get(key.name()), "it is out of range");
    }
    return (int) value;
  }

  private static long longValue(Map<String, String> v, ConfigKey key) {
    try {
      return Long.parseLong(v.get(key.name()));
    } catch (NumberFormatException e) {
      throw bad(key, v.get(key.name()), "it is not a whole number");
    }
  }

  private static double fraction(Map<String, String> v, ConfigKey key) {
    try {
      return Double.parseDouble(v.get(key.name()));
    } catch (NumberFormatException e) {
      throw bad(key, v.get(key.name()), "it is not a number between 0 and 1");
    }
  }

  private static long size(Map<String, String> v, ConfigKey key) {
    try {
      return DataSize.parseBytes(v.get(key.name()));
    } catch (IllegalArgumentException e) {
      throw bad(key, v.get(key.name()), e.getMessage());
    }
  }

  private static Duration duration(Map<String, String> v, ConfigKey key) {
    String text = v.get(key.name()).toLowerCase(Locale.ROOT);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+)\\s*(ms|s|m|h)").matcher(text);
    if (!m.matches()) {
      throw bad(key, text, "use a whole number with a unit ms, s, m or h, e.g. 30s");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  private static void check(boolean ok, ConfigKey key, Object value) {
    if (!ok) {
      throw bad(key, String.valueOf(value), "it is out of range: " + key.description());
    }
  }

  private static IllegalArgumentException bad(ConfigKey key, String value, String why) {
    return new IllegalArgumentException(
        "Invalid value '" + value + "' for " + key.name() + ": " + why);
  }

  private static String names() {
    Set<String> names = new TreeSet<>();
    KEYS.forEach(k -> names.add(k.name()));
    return String.join(", ", names);
  }
}
