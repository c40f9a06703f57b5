package dev.quiver.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Trino 476 coordinator of the test class's own, on a free 127.0.0.1 port with only the Iceberg
 * plugin loaded. Register it as a static field with {@code @RegisterExtension}.
 *
 * <p>The server tarball comes from Maven (integration-tests/pom.xml sets {@code
 * quiver.trino.tarball}); the first class that needs it unpacks it with {@code tar} under {@code
 * target/trino}, later ones reuse it. Trino needs Java 22+: without {@link #JAVA_HOME} the class is
 * skipped, or fails when {@code CI=true}. {@code beforeAll} launches the server and returns; {@link
 * #client} waits for its {@code SERVER STARTED} line, so a class can start its other servers
 * meanwhile. Catalogs are made with {@code CREATE CATALOG} (dynamic catalog management). The server
 * is killed after the class; its log stays under {@code target/it-logs}.
 */
final class TrinoServer implements BeforeAllCallback, AfterAllCallback {
  static final Path JAVA_HOME = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

  /** 11-29 s on an idle 2-core machine; 125 s was seen at a load average of 25. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration UNPACK_TIMEOUT = Duration.ofMinutes(5);
  private static final int TAIL_LINES = 60;

  private final Deque<String> tail = new ArrayDeque<>();
  private final CompletableFuture<Duration> started = new CompletableFuture<>();
  private Process process;
  private Path dir;
  private int port;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    if (!Files.isExecutable(JAVA_HOME.resolve("bin/java"))) {
      String message =
          "Trino 476 needs Java 22+, expected the Temurin 25 JDK in "
              + JAVA_HOME
              + " (present on CI machines)";
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(message);
      }
      Assumptions.assumeTrue(false, message);
    }
    Path home = unpacked();
    Files.createDirectories(QuiverServerProcess.logsDir());
    dir = Files.createTempDirectory(QuiverServerProcess.logsDir(), "trino-");
    port = freePort();
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Path data = Files.createDirectories(dir.resolve("data"));
    // Only the Iceberg connector: 1 plugin instead of 55 (a start loads every plugin it finds).
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    Files.createSymbolicLink(plugins.resolve("iceberg"), home.resolve("plugin/iceberg"));
    write(
        etc.resolve("node.properties"),
        Map.of(
            "node.environment", "quiver_it",
            "node.id", "quiver-it-" + ProcessHandle.current().pid(),
            "node.data-dir", data.toString(),
            "node.bind-ip", "127.0.0.1",
            "node.internal-address", "127.0.0.1"));
    write(
        etc.resolve("config.properties"),
        Map.of(
            "coordinator", "true",
            "node-scheduler.include-coordinator", "true",
            "http-server.http.port", Integer.toString(port),
            "discovery.uri", "http://127.0.0.1:" + port,
            "query.max-memory", "256MB",
            "query.max-memory-per-node", "256MB",
            "plugin.dir", plugins.toString(),
            "catalog.management", "dynamic"));
    Files.write(
        etc.resolve("jvm.config"),
        List.of(
            "-server",
            "-Xmx1G",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-OmitStackTraceInFastThrow",
            "-XX:ReservedCodeCacheSize=128M",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dfile.encoding=UTF-8",
            "-XX:+EnableDynamicAgentLoading",
            "--enable-native-access=ALL-UNNAMED"));
    // WARN but for the server's own lifecycle lines, SERVER STARTED among them.
    write(
        etc.resolve("log.properties"),
        Map.of(
            "Bootstrap", "WARN",
            "io.airlift", "WARN",
            "io.trino", "WARN",
            "io.trino.server.Server", "INFO",
            "org.apache.iceberg", "WARN",
            "org.eclipse.jetty", "WARN"));
    Files.createDirectories(etc.resolve("catalog"));

    ProcessBuilder builder =
        new ProcessBuilder(
                home.resolve("bin/launcher").toString(),
                "run",
                "--etc-dir=" + etc,
                "--data-dir=" + data)
            .redirectErrorStream(true);
    builder.environment().put("JAVA_HOME", JAVA_HOME.toString());
    builder
        .environment()
        .put("PATH", JAVA_HOME.resolve("bin") + ":" + builder.environment().get("PATH"));
    long launched = System.nanoTime();
    // The launcher execs java, so this process is Trino's JVM.
    process = builder.start();
    Process jvm = process;
    // A test JVM that exits without afterAll still takes Trino down.
    Runtime.getRuntime()
        .addShutdownHook(new Thread(jvm::destroyForcibly, "trino-reaper-" + process.pid()));
    Thread pump = new Thread(() -> pumpOutput(launched), "trino-output-" + process.pid());
    pump.setDaemon(true);
    pump.start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
    deleteRecursively(dir.resolve("data"));
  }

  /**
   * A client that runs statements as user {@code quiver} in {@code catalog} and {@code schema}
   * (either may be null); waits for the server to have started.
   */
  TrinoClient client(String catalog, String schema) {
    awaitStarted();
    return new TrinoClient(URI.create("http://127.0.0.1:" + port), catalog, schema);
  }

  /** How long the server took from launch to its {@code SERVER STARTED} line. */
  Duration awaitStarted() {
    try {
      return started.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Trino did not start within " + START_TIMEOUT + "; its last output:\n" + outputTail());
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          e.getCause().getMessage() + "; its last output:\n" + outputTail(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while Trino starts", e);
    }
  }

  /**
   * Creates an Iceberg catalog {@code name} with {@code properties} (Trino writes it to its {@code
   * etc/catalog/name.properties}).
   */
  void createCatalog(String name, Map<String, String> properties) {
    String with =
        properties.entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> "\"" + e.getKey() + "\" = '" + e.getValue().replace("'", "''") + "'")
            .collect(Collectors.joining(", "));
    client(null, null).execute("CREATE CATALOG " + name + " USING iceberg WITH (" + with + ")");
  }

  /** The last lines Trino printed, oldest first. */
  String outputTail() {
    synchronized (tail) {
      return String.join(System.lineSeparator(), tail);
    }
  }

  private void pumpOutput(long launched) {
    Path log = dir.resolve("trino.log");
    try (BufferedReader reader =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null) {
        out.write(line);
        out.write(System.lineSeparator());
        out.flush();
        synchronized (tail) {
          tail.addLast(line);
          if (tail.size() > TAIL_LINES) {
            tail.removeFirst();
          }
        }
        if (!started.isDone() && line.contains("SERVER STARTED")) {
          started.complete(Duration.ofNanos(System.nanoTime() - launched));
        }
      }
    } catch (IOException e) {
      started.completeExceptionally(e);
    }
    started.completeExceptionally(
        new IllegalStateException("Trino exited before it started (log: " + log + ")"));
  }

  /**
   * The unpacked server: {@code quiver.trino.dir}/server, made once with {@code tar} (which keeps
   * the tarball's hard links; Maven's unpack writes them as empty files).
   */
  private static synchronized Path unpacked() throws IOException, InterruptedException {
    Path target = Paths.get(QuiverServerProcess.requiredProperty("quiver.trino.dir"));
    Path server = target.resolve("server");
    if (Files.isExecutable(server.resolve("bin/launcher"))) {
      return server;
    }
    Path tarball = Paths.get(QuiverServerProcess.requiredProperty("quiver.trino.tarball"));
    if (!Files.isRegularFile(tarball)) {
      throw new IllegalStateException(
          "No Trino tarball at " + tarball + "; run the integration tests through Maven");
    }
    Path staging = target.resolve("unpacking-" + ProcessHandle.current().pid());
    deleteRecursively(staging);
    Files.createDirectories(staging);
    long start = System.nanoTime();
    Process tar =
        new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", staging.toString())
            .redirectErrorStream(true)
            .redirectOutput(target.resolve("unpack.log").toFile())
            .start();
    if (!tar.waitFor(UNPACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      tar.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "tar did not unpack " + tarball + " within " + UNPACK_TIMEOUT);
    }
    if (tar.exitValue() != 0) {
      throw new IllegalStateException(
          "tar could not unpack "
              + tarball
              + ": "
              + Files.readString(target.resolve("unpack.log")).strip());
    }
    Path top;
    try (Stream<Path> children = Files.list(staging)) {
      top =
          children
              .filter(p -> Files.isExecutable(p.resolve("bin/launcher")))
              .findFirst()
              .orElseThrow(
                  () -> new IllegalStateException("No bin/launcher in the tarball " + tarball));
    }
    // A rename of the finished tree: an interrupted unpack is never taken for a finished one.
    Files.move(top, server);
    deleteRecursively(staging);
    System.out.printf(
        "TrinoServer: unpacked %s (%d MB) in %d s%n",
        tarball.getFileName(),
        Files.size(tarball) >> 20,
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    return server;
  }

  private static void write(Path file, Map<String, String> properties) throws IOException {
    Files.write(
        file,
        properties.entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> e.getKey() + "=" + e.getValue())
            .toList());
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }
}
