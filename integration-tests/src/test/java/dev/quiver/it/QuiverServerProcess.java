package dev.quiver.it;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.arrow.flight.Location;

/**
 * The real Quiver server ({@code flight-server/target/quiver-server.jar}) running as a child
 * process on 127.0.0.1 and an ephemeral port.
 *
 * <p>{@link #start} returns once the server has printed its "listening" line, so {@link
 * #location()} is ready for clients. Everything the server prints goes to a log file under {@code
 * quiver.logs.dir}; failures to start carry the tail of that output. {@link #close()} stops the
 * server with SIGTERM, waits a bounded time, then kills it; a second close is harmless. Instances
 * are safe to share between threads.
 */
final class QuiverServerProcess implements AutoCloseable {
  /** How long a server may take from launch to its "listening" line. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  /**
   * How long a server may take to exit after SIGTERM before it is killed: its own drain of running
   * calls (10 s) plus gRPC's shutdown, with room for a loaded machine.
   */
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern LISTENING =
      Pattern.compile("Quiver listening on (grpc(?:\\+[a-z]+)?://[^:\\s]+:(\\d+))");
  private static final int TAIL_LINES = 80;
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  /** Servers not yet stopped; a JVM that exits without closing one still takes it down. */
  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "quiver-server-reaper"));
  }

  private final Process process;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final Path logFile;
  private final Path tempDir;
  private final Deque<String> tail = new ArrayDeque<>();
  private final CompletableFuture<Integer> listeningPort = new CompletableFuture<>();
  private final Thread outputPump;
  private volatile int port;
  private ExitStatus exitStatus;

  private QuiverServerProcess(
      Process process, Path dataDir, boolean ownsDataDir, Path logFile, Path tempDir) {
    this.tempDir = tempDir;
    this.process = process;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.logFile = logFile;
    this.outputPump = new Thread(this::pumpOutput, "quiver-server-output-" + process.pid());
    this.outputPump.setDaemon(true);
  }

  /**
   * Starts a server on a fresh data directory under {@code target/}, deleted when the server stops
   * (the log stays).
   */
  static QuiverServerProcess start() {
    try {
      Files.createDirectories(logsDir());
      return launch(List.of(), Files.createTempDirectory(logsDir(), "data-"), true, new String[0]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts a server on {@code dataDir}, which may hold the tables of an earlier server (to test
   * restarts). Extra arguments are appended to the command line.
   */
  static QuiverServerProcess start(Path dataDir, String... extraArgs) {
    requireNonNull(dataDir, "dataDir is null");
    return launch(List.of(), dataDir, false, extraArgs);
  }

  /** As {@link #start(Path, String...)}, with extra JVM options (system properties). */
  static QuiverServerProcess start(Path dataDir, List<String> jvmOptions, String... extraArgs) {
    requireNonNull(dataDir, "dataDir is null");
    return launch(List.copyOf(jvmOptions), dataDir, false, extraArgs);
  }

  /**
   * Starts a server on a fresh data directory with extra JVM options (for example {@code -Xmx256m},
   * placed after the project's own flags so they win) and extra server arguments.
   */
  static QuiverServerProcess startWithJvmOptions(List<String> jvmOptions, String... extraArgs) {
    try {
      Files.createDirectories(logsDir());
      return launch(
          List.copyOf(jvmOptions), Files.createTempDirectory(logsDir(), "data-"), true, extraArgs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static QuiverServerProcess launch(
      List<String> extraJvmOptions, Path dataDir, boolean ownsDataDir, String[] extraArgs) {
    Path serverDir = Paths.get(requiredProperty("quiver.server.dir"));
    Path jar = serverDir.resolve("quiver-server.jar");
    Path jvmOptions = serverDir.resolve("jvm.options");
    if (!Files.isRegularFile(jar) || !Files.isRegularFile(jvmOptions)) {
      throw new IllegalStateException(
          "No server build in "
              + serverDir
              + ": run `mvn -o -pl flight-server -am package -DskipTests` (or `mvn verify`)");
    }
    try {
      Files.createDirectories(logsDir());
      String name = String.format("server-%03d", SEQUENCE.incrementAndGet());
      Path logFile = logsDir().resolve(name + ".log");
      // Each server unpacks ~150 MB of JNI libraries (arrow-dataset, DuckDB) into its temp
      // directory; a directory per process under target/ is removed when the process stops.
      Path tempDir = Files.createDirectories(logsDir().resolve(name + "-tmp"));
      List<String> command = command(jar, jvmOptions, extraJvmOptions, tempDir, dataDir, extraArgs);
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      RUNNING.add(process);
      QuiverServerProcess server =
          new QuiverServerProcess(process, dataDir, ownsDataDir, logFile, tempDir);
      server.outputPump.start();
      server.awaitListening(command);
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The command line that runs the built server on {@code dataDir} with {@code extraArgs}, for
   * tests that run it to its exit (a refused start) rather than {@link #start} it.
   */
  static List<String> command(Path dataDir, Path tempDir, String... extraArgs) throws IOException {
    Path serverDir = Paths.get(requiredProperty("quiver.server.dir"));
    return command(
        serverDir.resolve("quiver-server.jar"),
        serverDir.resolve("jvm.options"),
        List.of(),
        tempDir,
        dataDir,
        extraArgs);
  }

  private static List<String> command(
      Path jar,
      Path jvmOptions,
      List<String> extraJvmOptions,
      Path tempDir,
      Path dataDir,
      String... extraArgs)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags(jvmOptions));
    command.addAll(extraJvmOptions);
    command.add("-Djava.io.tmpdir=" + tempDir.toAbsolutePath());
    command.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            dataDir.toString()));
    if (!Arrays.asList(extraArgs).contains("--maintenance.enabled")) {
      // No background compaction under a test that counts files, snapshots or memory; the
      // maintenance tests run it themselves (flight-server's SnapshotExpiryTest, CompactionTest).
      command.addAll(List.of("--maintenance.enabled", "false"));
    }
    command.addAll(Arrays.asList(extraArgs));
    return command;
  }

  /** Where clients connect: {@code grpc://127.0.0.1:PORT}. */
  Location location() {
    return Location.forGrpcInsecure("127.0.0.1", port);
  }

  /** The location as a URI string, for non-Java clients. */
  String uri() {
    return "grpc://127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  Path dataDir() {
    return dataDir;
  }

  Path logFile() {
    return logFile;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The last lines the server printed, oldest first. */
  String outputTail() {
    synchronized (tail) {
      return String.join(System.lineSeparator(), tail);
    }
  }

  /**
   * Stops the server: SIGTERM, a wait of at most {@link #STOP_TIMEOUT}, then a forced kill. Returns
   * how it ended; calling it again returns the same status.
   */
  synchronized ExitStatus stop() {
    if (exitStatus != null) {
      return exitStatus;
    }
    boolean forced = false;
    try {
      process.destroy();
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        forced = true;
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
      // The pump ends at EOF, which follows the exit; wait so the log is complete.
      outputPump.join(STOP_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      forced = true;
    }
    exitStatus = new ExitStatus(process.isAlive() ? -1 : process.exitValue(), forced);
    if (!process.isAlive()) {
      RUNNING.remove(process);
    }
    if (forced) {
      System.err.printf(
          "Quiver server %d did not stop within %s of SIGTERM and was killed; its last output:%n%s%n",
          process.pid(), STOP_TIMEOUT, outputTail());
    }
    if (!process.isAlive()) {
      deleteRecursively(tempDir);
      if (ownsDataDir) {
        deleteRecursively(dataDir);
      }
    }
    return exitStatus;
  }

  /**
   * Kills the server with SIGKILL (kill -9: no shutdown hook, no drain, no flush) and waits for it
   * to exit. Later {@link #stop()} and {@link #close()} calls return this status. The data folder
   * is left as the crash left it (and deleted only if this process owns it).
   */
  synchronized ExitStatus kill() {
    if (exitStatus != null) {
      return exitStatus;
    }
    process.destroyForcibly(); // SIGKILL on Linux and macOS
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("Server " + process.pid() + " survived SIGKILL");
      }
      outputPump.join(STOP_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while killing " + this, e);
    }
    exitStatus = new ExitStatus(process.exitValue(), true);
    RUNNING.remove(process);
    deleteRecursively(tempDir);
    if (ownsDataDir) {
      deleteRecursively(dataDir);
    }
    return exitStatus;
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "QuiverServerProcess{pid=" + process.pid() + ", port=" + port + ", log=" + logFile + "}";
  }

  /**
   * How a server process ended.
   *
   * @param exitCode the process's exit code (-1 if it could not be reaped)
   * @param forced whether it had to be killed after SIGTERM
   */
  record ExitStatus(int exitCode, boolean forced) {}

  private void awaitListening(List<String> command) {
    try {
      port = listeningPort.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      stop();
      throw new IllegalStateException(
          startFailure(command, "did not print its listening line in " + START_TIMEOUT));
    } catch (ExecutionException e) {
      stop();
      throw new IllegalStateException(startFailure(command, e.getCause().getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
      throw new IllegalStateException("Interrupted while starting " + this, e);
    }
  }

  private String startFailure(List<String> command, String reason) {
    return String.format(
        "Quiver server failed to start: %s%ncommand: %s%nlog: %s%nlast output:%n%s",
        reason, String.join(" ", command), logFile, outputTail());
  }

  /** Copies the server's output to the log file and the tail, and spots the listening line. */
  private void pumpOutput() {
    try (BufferedReader reader =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null) {
        log.write(line);
        log.write(System.lineSeparator());
        log.flush();
        synchronized (tail) {
          tail.addLast(line);
          if (tail.size() > TAIL_LINES) {
            tail.removeFirst();
          }
        }
        Matcher matcher = LISTENING.matcher(line);
        if (!listeningPort.isDone() && matcher.find()) {
          listeningPort.complete(Integer.parseInt(matcher.group(2)));
        }
      }
    } catch (IOException e) {
      listeningPort.completeExceptionally(e);
    }
    // EOF: the process closed its output, which means it exited (or is about to).
    if (!listeningPort.isDone()) {
      listeningPort.completeExceptionally(
          new IllegalStateException(
              "the process exited before it was listening" + exitCodeSuffix()));
    }
  }

  private String exitCodeSuffix() {
    try {
      if (process.waitFor(5, TimeUnit.SECONDS)) {
        return " (exit code " + process.exitValue() + ")";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "";
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      System.err.printf("Cannot delete %s: %s%n", dir, e);
    }
  }

  static List<String> jvmFlags(Path jvmOptions) throws IOException {
    String flags = Files.readString(jvmOptions, StandardCharsets.UTF_8).trim();
    return flags.isEmpty() ? List.of() : Arrays.asList(flags.split("\\s+"));
  }

  static Path logsDir() {
    String dir = System.getProperty("quiver.logs.dir");
    return dir == null || dir.isBlank() ? Paths.get("target", "it-logs") : Paths.get(dir);
  }

  static String requiredProperty(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "System property " + name + " is not set; run the integration tests through Maven");
    }
    return value;
  }
}
