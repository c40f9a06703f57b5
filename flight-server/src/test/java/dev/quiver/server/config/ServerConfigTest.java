package dev.quiver.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @Test
  void defaults() {
    ServerConfig config = ServerConfig.load(Map.of(), Map.of(), Map.of("memory.total", "1GB"));
    assertThat(config.flight().host()).isEqualTo("127.0.0.1");
    assertThat(config.flight().port()).isEqualTo(8815);
    assertThat(config.dataDir()).isEqualTo(Path.of("./quiver-data"));
    assertThat(config.write().compression()).isEqualTo("zstd");
    assertThat(config.write().compressionLevel()).isZero();
    assertThat(config.write().rowGroupRows()).isEqualTo(1_048_576);
    assertThat(config.write().targetFileBytes()).isEqualTo(512L << 20);
    assertThat(config.catalog().busyTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.flight().endpointTargetBytes()).isEqualTo(256L << 20);
    assertThat(config.flight().maxEndpoints()).isEqualTo(16);
    assertThat(config.flight().stallTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.flight().putStallTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.scan().batchRows()).isEqualTo(65_536);
    assertThat(config.scan().minBatchRows()).isEqualTo(4096);
    assertThat(config.scan().engine()).isEqualTo(ScanEngine.DUCKDB);
    assertThat(config.memory().highPressure()).isEqualTo(0.75);
    assertThat(config.memory().total()).isEqualTo(1L << 30);
    assertThat(config.memory().queryLimit()).isEqualTo(256L << 20);
    assertThat(config.memory().callReservation()).isEqualTo(1L << 20);
    assertThat(config.memory().admissionQueue()).isEqualTo(64);
    assertThat(config.memory().admissionTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.memory().transportReserve()).isEqualTo(192L << 20);
    assertThat(config.memory().duckdbMemoryLimit()).isEqualTo(128L << 20);
    assertThat(config.sql().memoryLimit()).isEqualTo(128L << 20);
    assertThat(config.arrowMemory()).isEqualTo(768L << 20);
    assertThat(config.sql().threads())
        .as("one fewer than the cores, at least one")
        .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
    assertThat(config.sql().maxConcurrentQueries())
        .as("16MB of sql.memory-limit each")
        .isEqualTo(8);
    assertThat(config.telemetry()).isEqualTo(TelemetrySettings.DEFAULTS);
    assertThat(config.telemetry().enabled()).isTrue();
    assertThat(config.telemetry().host()).isEqualTo("127.0.0.1");
    assertThat(config.telemetry().port()).isEmpty();
    assertThat(config.telemetry().alertInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.storage())
        .isEqualTo(
            new StorageSettings(
                Optional.of(Path.of("./quiver-data/warehouse")),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                false,
                Path.of("./quiver-data/cache"),
                1L << 30));
    assertThat(config.storage().isRemote()).isFalse();
    assertThat(config.catalog()).isEqualTo(CatalogSettings.DEFAULTS);
    assertThat(config.catalog().embedded()).isTrue();
    assertThat(config.catalog().name()).isEqualTo("quiver");
    assertThat(config.catalog().nodeTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.catalog().advertise()).isEmpty();
  }

  @Test
  void storageValuesAreChecked() {
    for (Map.Entry<String, String> bad :
        List.of(
            Map.entry("storage.warehouse", "hdfs://nn/tables"),
            Map.entry("storage.warehouse", "s3://"),
            Map.entry("storage.s3.endpoint", "127.0.0.1:9000"),
            Map.entry("storage.s3.path-style-access", "yes"),
            Map.entry("storage.cache-size", "0"))) {
      assertThatThrownBy(
              () -> ServerConfig.load(Map.of(), Map.of(), Map.ofEntries(bad)), bad.toString())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("Invalid value '" + bad.getValue() + "' for " + bad.getKey());
    }
    ServerConfig remote =
        ServerConfig.load(
            Map.of(), Map.of(), Map.of("storage.warehouse", "s3://b", "storage.data-dir", "/d"));
    assertThat(remote.storage().isRemote()).isTrue();
    assertThat(remote.storage().bucket()).isEqualTo("b");
    assertThat(remote.storage().cacheDir()).isEqualTo(Path.of("/d/cache"));
  }

  @Test
  void catalogPasswordComesFromTheEnvironmentAndIsNeverPrinted() {
    ServerConfig config =
        ServerConfig.load(
            Map.of(),
            Map.of("QUIVER_CATALOG_PASSWORD", "S3cret-Catalog-91"),
            Map.of(
                "memory.total",
                "1GB",
                "catalog.uri",
                "jdbc:postgresql://db:5432/cat?user=q&password=S3cret-In-Url-17"));
    assertThat(config.catalog().password()).isEqualTo("S3cret-Catalog-91");
    assertThat(config.toString())
        .contains("jdbc:postgresql://db:5432/cat?user=q&password=***")
        .doesNotContain("S3cret-Catalog-91")
        .doesNotContain("S3cret-In-Url-17");
  }

  @Test
  void badCatalogSettingsNameTheKey() {
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("catalog.uri", "postgres://x/y")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("catalog.uri must be a JDBC URL");
    assertThatThrownBy(
            () ->
                ServerConfig.load(
                    Map.of(), Map.of(), Map.of("cluster.advertise", "http://node1:8815")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cluster.advertise must be grpc://host:port");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("cluster.node-timeout", "10ms")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cluster.node-timeout must be at least 1s");
  }

  @Test
  void autoMemoryTotalIsAShareOfDirectMemory() {
    ServerConfig config = ServerConfig.defaults();
    assertThat(config.memory().total()).isPositive();
    assertThat(config.memory().queryLimit()).isLessThanOrEqualTo(config.arrowMemory());
    // Arrow keeps three quarters of direct memory; each DuckDB gets an eighth on top.
    assertThat(config.memory().duckdbMemoryLimit()).isEqualTo(config.sql().memoryLimit());
    assertThat(config.arrowMemory()).isEqualTo(config.memory().duckdbMemoryLimit() * 6);
    assertThat(config.arrowMemory())
        .isEqualTo(
            config.memory().total()
                - config.memory().duckdbMemoryLimit()
                - config.sql().memoryLimit());
  }

  @Test
  void duckdbLimitsAreCarvedOutOfTheTotal() {
    ServerConfig config =
        ServerConfig.load(
            Map.of(),
            Map.of(),
            Map.of(
                "memory.total",
                "1GB",
                "duckdb.memory-limit",
                "100MB",
                "sql.memory-limit",
                "200MB"));
    assertThat(config.arrowMemory()).isEqualTo(724L << 20);
    assertThat(config.memory().queryLimit()).isEqualTo(256L << 20);
    assertThat(
            ServerConfig.load(Map.of(), Map.of(), Map.of("memory.total", "64MB"))
                .memory()
                .duckdbMemoryLimit())
        .as("at least 16MB")
        .isEqualTo(16L << 20);
    assertThatThrownBy(
            () ->
                ServerConfig.load(
                    Map.of(), Map.of(), Map.of("memory.total", "1GB", "sql.memory-limit", "900MB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '1.0 GB' for memory.total")
        .hasMessageContaining("sql.memory-limit (900.0 MB)")
        .hasMessageContaining("at most 7/8 of it");
  }

  @Test
  void explicitProperties() {
    Map<String, String> flags =
        Map.ofEntries(
            Map.entry("flight.host", "0.0.0.0"),
            Map.entry("flight.port", "0"),
            Map.entry("flight.endpoint-target-size", "64MB"),
            Map.entry("flight.max-endpoints", "4"),
            Map.entry("flight.stall-timeout", "30s"),
            Map.entry("flight.put-stall-timeout", "45s"),
            Map.entry("storage.data-dir", "/tmp/q"),
            Map.entry("storage.compression", "SNAPPY"),
            Map.entry("storage.compression-level", "3"),
            Map.entry("storage.row-group-rows", "1000"),
            Map.entry("storage.target-file-size", "8MB"),
            Map.entry("storage.catalog-busy-timeout", "2s"),
            Map.entry("scan.batch-rows", "1024"),
            Map.entry("scan.min-batch-rows", "256"),
            Map.entry("scan.engine", "Arrow-Dataset"),
            Map.entry("memory.high-pressure", "0.5"),
            Map.entry("memory.total", "2GB"),
            Map.entry("memory.query-limit", "64MB"),
            Map.entry("memory.call-reservation", "2MB"),
            Map.entry("memory.admission-queue", "8"),
            Map.entry("memory.admission-timeout", "1500ms"),
            Map.entry("memory.transport-reserve", "96MB"),
            Map.entry("duckdb.memory-limit", "128MB"),
            Map.entry("sql.memory-limit", "256MB"),
            Map.entry("sql.threads", "3"),
            Map.entry("sql.max-concurrent-queries", "5"),
            Map.entry("telemetry.enabled", "false"),
            Map.entry("telemetry.host", "0.0.0.0"),
            Map.entry("telemetry.prometheus-port", "9464"),
            Map.entry("telemetry.alert-interval", "2s"),
            Map.entry("security.users-file", "/etc/quiver/users"),
            Map.entry("security.token-lifetime", "15m"),
            Map.entry("security.tls-cert", "/etc/quiver/cert.pem"),
            Map.entry("security.tls-key", "/etc/quiver/key.pem"),
            Map.entry("security.tls-client-ca", "/etc/quiver/ca.pem"),
            Map.entry("security.allow-unauthenticated-remote", "true"),
            Map.entry("security.login-max-failures", "3"),
            Map.entry("security.login-lockout", "2m"),
            Map.entry("limits.max-message-size", "16MB"),
            Map.entry("limits.max-put-batches", "500"),
            Map.entry("limits.max-columns", "100"),
            Map.entry("limits.max-ticket-size", "4KB"),
            Map.entry("limits.max-action-body", "8KB"),
            Map.entry("storage.warehouse", "s3://bucket/tables"),
            Map.entry("storage.s3.endpoint", "http://127.0.0.1:9000"),
            Map.entry("storage.s3.region", "eu-west-1"),
            Map.entry("storage.s3.path-style-access", "true"),
            Map.entry("storage.cache-dir", "/var/cache/quiver"),
            Map.entry("storage.cache-size", "64MB"),
            Map.entry("catalog.uri", "jdbc:postgresql://db.example:5432/iceberg"),
            Map.entry("catalog.user", "quiver"),
            Map.entry("catalog.password", "pw"),
            Map.entry("catalog.name", "lake"),
            Map.entry("cluster.advertise", "grpc://node1.example:8815"),
            Map.entry("cluster.node-timeout", "10s"),
            Map.entry("maintenance.enabled", "false"),
            Map.entry("maintenance.interval", "30s"),
            Map.entry("maintenance.expire-after", "2h"),
            Map.entry("maintenance.retain-last", "3"),
            Map.entry("maintenance.compact-min-files", "50"),
            Map.entry("catalog.rest-port", "8181"),
            Map.entry("catalog.rest-host", "0.0.0.0"),
            Map.entry("storage.max-open-partitions", "8"),
            Map.entry("sql.transaction-timeout", "90s"),
            Map.entry("sql.max-transactions-per-user", "3"));
    ServerConfig config = ServerConfig.load(Map.of(), Map.of(), flags);
    assertThat(config)
        .isEqualTo(
            new ServerConfig(
                Path.of("/tmp/q"),
                new FlightSettings(
                    "0.0.0.0", 0, 64L << 20, 4, Duration.ofSeconds(30), Duration.ofSeconds(45)),
                new WriteSettings("snappy", 3, 1000, 8L << 20),
                new ScanSettings(1024, 256, ScanEngine.ARROW_DATASET),
                new MemorySettings(
                    2L << 30,
                    64L << 20,
                    2L << 20,
                    8,
                    Duration.ofMillis(1500),
                    96L << 20,
                    0.5,
                    128L << 20),
                new SqlSettings(256L << 20, 3, 5),
                new TelemetrySettings(
                    false, "0.0.0.0", OptionalInt.of(9464), Duration.ofSeconds(2)),
                new SecuritySettings(
                    Optional.of(Path.of("/etc/quiver/users")),
                    Duration.ofMinutes(15),
                    Optional.of(Path.of("/etc/quiver/cert.pem")),
                    Optional.of(Path.of("/etc/quiver/key.pem")),
                    Optional.of(Path.of("/etc/quiver/ca.pem")),
                    true,
                    3,
                    Duration.ofMinutes(2)),
                new LimitSettings(16 << 20, 500, 100, 4 << 10, 8 << 10),
                new StorageSettings(
                    Optional.empty(),
                    Optional.of(URI.create("s3://bucket/tables")),
                    Optional.of(URI.create("http://127.0.0.1:9000")),
                    Optional.of("eu-west-1"),
                    true,
                    Path.of("/var/cache/quiver"),
                    64L << 20),
                new CatalogSettings(
                    Optional.of("jdbc:postgresql://db.example:5432/iceberg"),
                    "quiver",
                    "pw",
                    "lake",
                    Optional.of(java.net.URI.create("grpc://node1.example:8815")),
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(2)),
                new MaintenanceSettings(false, Duration.ofSeconds(30), Duration.ofHours(2), 3, 50),
                new RestSettings(OptionalInt.of(8181), "0.0.0.0"),
                new PartitionSettings(8),
                new TransactionSettings(Duration.ofSeconds(90), 3)));
    assertThat(flags.keySet())
        .as("every key is covered by this test")
        .containsExactlyInAnyOrderElementsOf(
            ServerConfig.KEYS.stream().map(ConfigKey::name).toList());
  }

  @Test
  void transportReserveIsAQuarterOfTheTotalByDefaultAndAtMostHalf() {
    assertThat(
            ServerConfig.load(Map.of(), Map.of(), Map.of("memory.total", "128MB"))
                .memory()
                .transportReserve())
        .as("a quarter of 128MB less two 16MB DuckDB limits")
        .isEqualTo(24L << 20);
    assertThatThrownBy(
            () ->
                ServerConfig.load(
                    Map.of(),
                    Map.of(),
                    Map.of("memory.total", "128MB", "memory.transport-reserve", "49MB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memory.transport-reserve")
        .hasMessageContaining("at most half of Arrow's share of memory.total");
  }

  @Test
  void flagsOverrideEnvironmentWhichOverridesTheFile() {
    Map<String, String> file = Map.of("flight.port", "1111", "scan.batch-rows", "10");
    Map<String, String> env =
        Map.of("QUIVER_FLIGHT_PORT", "2222", "QUIVER_SCAN_BATCH_ROWS", "20", "PATH", "/bin");
    Map<String, String> flags = Map.of("flight.port", "3333");
    ServerConfig config = ServerConfig.load(file, env, flags);
    assertThat(config.flight().port()).isEqualTo(3333);
    assertThat(config.scan().batchRows()).isEqualTo(20);
  }

  @Test
  void theLaunchersJvmFlagsAreNotAKey() {
    ServerConfig config =
        ServerConfig.load(Map.of(), Map.of("QUIVER_JAVA_OPTS", "-Xmx1g"), Map.of());
    assertThat(config).isEqualTo(ServerConfig.defaults());
  }

  @Test
  void unknownKeysFailTheStart() {
    assertThatThrownBy(
            () ->
                ServerConfig.load(
                    Map.of("memory.totl", "1GB"), Map.of("QUIVER_NOPE", "1"), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Unknown configuration keys: memory.totl (in the config file)")
        .hasMessageContaining("QUIVER_NOPE (environment)");
  }

  @Test
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> ServerConfig.load(Map.of(), Map.of(), Map.of("flight.port", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid value 'x' for flight.port: it is not a whole number");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("storage.compression", "brotli")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value 'brotli' for storage.compression");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("memory.query-limit", "12XB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '12XB' for memory.query-limit");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("flight.stall-timeout", "5 days")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '5 days' for flight.stall-timeout");
    assertThatThrownBy(() -> ServerConfig.load(Map.of(), Map.of(), Map.of("scan.engine", "spark")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value 'spark' for scan.engine");
    assertThatThrownBy(() -> ServerConfig.load(Map.of(), Map.of(), Map.of("sql.threads", "-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '-1' for sql.threads");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("sql.max-concurrent-queries", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '0' for sql.max-concurrent-queries");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("sql.memory-limit", "1MB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '1048576' for sql.memory-limit");
  }

  @Test
  void minBatchRowsIsCappedAtTheBatchSizeAndPressureIsAFraction() {
    ServerConfig config = ServerConfig.load(Map.of(), Map.of(), Map.of("scan.batch-rows", "1000"));
    assertThat(config.scan().minBatchRows()).isEqualTo(1000);
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("memory.high-pressure", "1.5")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '1.5' for memory.high-pressure");
  }

  @Test
  void queryLimitIsCappedAtArrowsShareOfTheTotal() {
    ServerConfig config =
        ServerConfig.load(
            Map.of(), Map.of(), Map.of("memory.total", "100MB", "memory.query-limit", "1GB"));
    assertThat(config.memory().queryLimit()).isEqualTo(68L << 20);
  }

  @Test
  void callReservationIsCappedAtTheQueryLimitAndAdmissionSettingsAreChecked() {
    ServerConfig config =
        ServerConfig.load(
            Map.of(),
            Map.of(),
            Map.of(
                "memory.total", "1GB",
                "memory.query-limit", "4MB",
                "memory.call-reservation", "8MB",
                "memory.admission-queue", "0",
                "memory.admission-timeout", "0ms"));
    assertThat(config.memory().callReservation()).isEqualTo(4L << 20);
    assertThat(config.memory().admissionQueue()).isZero();
    assertThat(config.memory().admissionTimeout()).isZero();
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("memory.admission-queue", "-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "Invalid value '-1' for memory.admission-queue: it is out of range");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("memory.admission-timeout", "soon")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value 'soon' for memory.admission-timeout");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("memory.call-reservation", "-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '-1' for memory.call-reservation");
  }

  @Test
  void commandLineReadsShorthandsKeysAndTheConfigFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("quiver.properties");
    Files.writeString(file, "scan.batch-rows=77\n");
    CommandLine cli =
        CommandLine.parse(
            List.of(
                "--port",
                "0",
                "--data-dir=/d",
                "--memory.total",
                "1GB",
                "--config",
                file.toString()));
    assertThat(cli.flags())
        .containsEntry("flight.port", "0")
        .containsEntry("storage.data-dir", "/d")
        .containsEntry("memory.total", "1GB");
    ServerConfig config = ServerConfig.load(cli.fileProperties(), Map.of(), cli.flags());
    assertThat(config.scan().batchRows()).isEqualTo(77);
    assertThatThrownBy(() -> CommandLine.parse(List.of("--port")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Missing value for --port");
    assertThatThrownBy(() -> CommandLine.parse(List.of("serve")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Unexpected argument 'serve'; see --help");
  }

  @Test
  void securityIsOffAndLimitsAreBoundedByDefault() {
    ServerConfig config = ServerConfig.defaults();
    assertThat(config.security()).isEqualTo(SecuritySettings.DEFAULTS);
    assertThat(config.security().authEnabled()).isFalse();
    assertThat(config.security().tlsEnabled()).isFalse();
    assertThat(config.limits()).isEqualTo(LimitSettings.DEFAULTS);
  }

  @Test
  void maintenanceExpiresAfterFifteenMinutesKeepingTenSnapshotsAndCompactsPastSixteenByDefault() {
    ServerConfig config = ServerConfig.defaults();
    assertThat(config.maintenance()).isEqualTo(MaintenanceSettings.DEFAULTS);
    assertThat(config.maintenance().enabled()).isTrue();
    assertThat(config.maintenance().interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.maintenance().expireAfter()).isEqualTo(Duration.ofMinutes(15));
    assertThat(config.maintenance().retainLast()).isEqualTo(10);
    assertThat(config.maintenance().compactMinFiles()).isEqualTo(16);
  }

  @Test
  void restCatalogIsOffOnLoopbackByDefault() {
    ServerConfig config = ServerConfig.load(Map.of(), Map.of(), Map.of("memory.total", "1GB"));
    assertThat(config.rest()).isEqualTo(RestSettings.DEFAULTS);
    assertThat(config.rest().enabled()).isFalse();
    assertThat(config.rest().host()).isEqualTo("127.0.0.1");
    assertThat(
            ServerConfig.load(Map.of(), Map.of(), Map.of("catalog.rest-port", "0")).rest().port())
        .as("0 picks a free port")
        .hasValue(0);
  }

  @Test
  void restCatalogPortIsOffOrAPort() {
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("catalog.rest-port", "70000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '70000' for catalog.rest-port");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("catalog.rest-port", "on")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value 'on' for catalog.rest-port");
  }

  @Test
  void transactionsIdleFiveMinutesAndEightPerUserByDefault() {
    assertThat(ServerConfig.defaults().transactions()).isEqualTo(TransactionSettings.DEFAULTS);
    assertThat(ServerConfig.defaults().transactions())
        .isEqualTo(new TransactionSettings(Duration.ofMinutes(5), 8));
    assertThatThrownBy(
            () ->
                ServerConfig.load(Map.of(), Map.of(), Map.of("sql.max-transactions-per-user", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '0' for sql.max-transactions-per-user");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("sql.transaction-timeout", "0s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '0s' for sql.transaction-timeout");
  }

  @Test
  void putsKeepSixtyFourPartitionFilesOpenByDefaultAndAtLeastOne() {
    assertThat(ServerConfig.defaults().partitions()).isEqualTo(PartitionSettings.DEFAULTS);
    assertThat(ServerConfig.defaults().partitions().maxOpenPartitions()).isEqualTo(64);
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("storage.max-open-partitions", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '0' for storage.max-open-partitions");
  }

  @Test
  void maintenanceSettingsAreChecked() {
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("maintenance.retain-last", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '0' for maintenance.retain-last");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("maintenance.interval", "0s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value 'PT0S' for maintenance.interval");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("maintenance.enabled", "yes")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value 'yes' for maintenance.enabled: use true or false");
    assertThatThrownBy(
            () ->
                ServerConfig.load(Map.of(), Map.of(), Map.of("maintenance.compact-min-files", "1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Invalid value '1' for maintenance.compact-min-files");
  }

  @Test
  void loginThrottleSettingsAreChecked() {
    assertThatThrownBy(
            () ->
                ServerConfig.load(Map.of(), Map.of(), Map.of("security.login-max-failures", "-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("security.login-max-failures must not be negative: -1");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("security.login-lockout", "500ms")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("security.login-lockout must be at least 1s");
  }

  @Test
  void tlsCertificateAndKeyGoTogetherAndClientCaNeedsThem() {
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("security.tls-cert", "/c.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("security.tls-cert and security.tls-key go together");
    assertThatThrownBy(
            () ->
                ServerConfig.load(Map.of(), Map.of(), Map.of("security.tls-client-ca", "/ca.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("security.tls-client-ca (mutual TLS) needs security.tls-cert");
  }

  @Test
  void securityAndLimitValuesAreChecked() {
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("security.token-lifetime", "0s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '0s' for security.token-lifetime");
    assertThatThrownBy(
            () ->
                ServerConfig.load(
                    Map.of(), Map.of(), Map.of("security.allow-unauthenticated-remote", "yes")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Invalid value 'yes' for security.allow-unauthenticated-remote: use true or false");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("limits.max-message-size", "4GB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '4294967296' for limits.max-message-size");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("limits.max-columns", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '0' for limits.max-columns");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("limits.max-ticket-size", "1GB")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value '1073741824' for limits.max-ticket-size");
  }

  @Test
  void readmeDocumentsEveryKeyWithItsDefault() throws Exception {
    // Surefire runs in the module folder; the README is at the repository root.
    String readme = Files.readString(Path.of("..", "README.md"));
    for (ConfigKey key : ServerConfig.KEYS) {
      assertThat(readme)
          .as("README.md's configuration table lists %s", key.name())
          .contains("| `" + key.name() + "` | `" + key.defaultValue() + "` |");
    }
  }

  @Test
  void telemetryPortIsOffOrAPortAndEnabledIsABoolean() {
    assertThat(
            ServerConfig.load(Map.of(), Map.of(), Map.of("telemetry.prometheus-port", "0"))
                .telemetry()
                .port())
        .hasValue(0);
    assertThatThrownBy(
            () ->
                ServerConfig.load(Map.of(), Map.of(), Map.of("telemetry.prometheus-port", "70000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "Invalid value '70000' for telemetry.prometheus-port: it is out of range");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("telemetry.enabled", "yes")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Invalid value 'yes' for telemetry.enabled: use true or false");
    assertThatThrownBy(
            () -> ServerConfig.load(Map.of(), Map.of(), Map.of("telemetry.alert-interval", "0s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Invalid value 'PT0S' for telemetry.alert-interval");
  }

  @Test
  void dataSizesUseBinaryUnits() {
    assertThat(DataSize.parseBytes("256MB")).isEqualTo(256L << 20);
    assertThat(DataSize.parseBytes("1 gib")).isEqualTo(1L << 30);
    assertThat(DataSize.parseBytes("512")).isEqualTo(512);
    assertThat(DataSize.format(64L << 20)).isEqualTo("64.0 MB");
    assertThat(DataSize.format(100)).isEqualTo("100 B");
  }
}
