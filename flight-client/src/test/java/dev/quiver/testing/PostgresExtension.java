package dev.quiver.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL server of the test class's own: {@code initdb} in a temporary folder, {@code pg_ctl
 * start} on a free 127.0.0.1 port (its Unix socket in that folder too), stopped and deleted after
 * the class. Register it as a static field with {@code @RegisterExtension}.
 *
 * <p>As root (initdb refuses root) the server runs as the {@code postgres} user. Without PostgreSQL
 * installed (no {@code /usr/lib/postgresql/N/bin/initdb}) the class is skipped, or fails when
 * {@code CI=true}. The server trusts every local connection: user {@code postgres}, any password.
 * {@link #stop()} and {@link #start()} let a test take the database away and bring it back.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private Path bin;
  private Path root;
  private int port;
  private boolean running;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Optional<Path> found = findBin();
    if (found.isEmpty()) {
      String message =
          "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install Debian's"
              + " postgresql package (.ci/run does)";
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(message);
      }
      Assumptions.assumeTrue(false, message);
    }
    bin = found.get();
    root = Files.createTempDirectory("quiver-pg");
    Files.createDirectories(root.resolve("data"));
    if (isRoot()) {
      run(List.of("chown", "-R", "postgres:postgres", root.toString()), false);
    }
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            root.resolve("data").toString(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync"),
        true);
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (root == null) {
      return;
    }
    try {
      stop();
    } finally {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * Starts the server (again): on a new free port the first time, on the same port after {@link
   * #stop()} so that clients holding the URL reconnect.
   */
  public synchronized void start() throws IOException, InterruptedException {
    if (running) {
      return;
    }
    boolean first = port == 0;
    for (int attempt = 1; ; attempt++) {
      if (first) {
        port = freePort();
      }
      try {
        run(
            List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                root.resolve("data").toString(),
                "-l",
                root.resolve("postgres.log").toString(),
                "-w",
                "-o",
                "-c listen_addresses=127.0.0.1 -p "
                    + port
                    + " -k "
                    + root
                    + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                    + " -c max_connections=200",
                "start"),
            true);
        running = true;
        return;
      } catch (IOException e) {
        // Another process may have taken the free port between probing and binding.
        if (!first || attempt == 3) {
          throw new IOException(e.getMessage() + "; server log:\n" + log(), e);
        }
      }
    }
  }

  /** Stops the server ({@code pg_ctl -m fast stop}: connections are cut at once). */
  public synchronized void stop() throws IOException, InterruptedException {
    if (!running) {
      return;
    }
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            root.resolve("data").toString(),
            "-m",
            "fast",
            "-w",
            "stop"),
        true);
    running = false;
  }

  /** The server's port on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** The superuser to connect as. */
  public String user() {
    return "postgres";
  }

  /** Creates a new, empty database and returns its JDBC URL. */
  public String newDatabase() throws IOException, InterruptedException {
    String name = "quiver_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
    run(
        List.of(
            bin.resolve("createdb").toString(),
            "-h",
            "127.0.0.1",
            "-p",
            Integer.toString(port),
            "-U",
            "postgres",
            name),
        true);
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
  }

  /** The server's log so far, for failure messages. */
  public String log() {
    try {
      Path log = root.resolve("postgres.log");
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Optional<Path> findBin() throws IOException {
    Path lib = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(lib)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(lib)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          // The newest major version: 16 sorts after 15 by number, not by text.
          .max(
              Comparator.comparingInt(
                  b -> {
                    String v = b.getParent().getFileName().toString();
                    return v.matches("\\d+") ? Integer.parseInt(v) : 0;
                  }));
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Runs {@code command} (as postgres when we are root and {@code asPostgres}); fails on rc. */
  private void run(List<String> command, boolean asPostgres)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asPostgres && isRoot()) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    Path output = Files.createTempFile("quiver-pg-cmd", ".log");
    try {
      Process process =
          new ProcessBuilder(full)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(
            "Timed out after " + COMMAND_TIMEOUT.toSeconds() + " s: " + String.join(" ", full));
      }
      if (process.exitValue() != 0) {
        throw new IOException(
            String.join(" ", full)
                + " exited with "
                + process.exitValue()
                + ": "
                + Files.readString(output, StandardCharsets.UTF_8).strip());
      }
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
