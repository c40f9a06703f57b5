package dev.quiver.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * s3proxy 2.6.0 (filesystem-nio2 backend) in a JVM of its own on a free 127.0.0.1 port, with one
 * bucket (a folder of its backend). Its classpath is resolved once with Maven from
 * flight-server/src/test/s3proxy/pom.xml (its Netty, Jackson and Jetty do not converge with the
 * server's). Close stops it.
 */
final class S3ProxyProcess implements AutoCloseable {
  static final String ACCESS_KEY = "quiverkey";
  static final String SECRET_KEY = "quiversecret";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final int port;
  private final Path root;

  private S3ProxyProcess(Process process, int port, Path root) {
    this.process = process;
    this.port = port;
    this.root = root;
  }

  /** Starts s3proxy over a new folder under {@code root}, with bucket {@code bucket}. */
  static S3ProxyProcess start(Path root, String bucket) throws Exception {
    Path data = Files.createDirectories(root.resolve("s3data"));
    Files.createDirectories(data.resolve(bucket));
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Path properties = root.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "s3proxy.ignore-unknown-headers=true",
            "jclouds.provider=filesystem-nio2",
            "jclouds.filesystem.basedir=" + data,
            "jclouds.identity=" + ACCESS_KEY,
            "jclouds.credential=" + SECRET_KEY,
            ""));
    Path logback = root.resolve("s3proxy-logback.xml");
    Files.writeString(
        logback,
        "<configuration><appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">"
            + "<encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>"
            + "<root level=\"INFO\"><appender-ref ref=\"OUT\"/></root></configuration>");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-Dlogback.configurationFile=" + logback,
            "-cp",
            classpath(),
            "org.gaul.s3proxy.Main",
            "--properties",
            properties.toString());
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("s3proxy.log").toFile())
            .start();
    S3ProxyProcess proxy = new S3ProxyProcess(process, port, root);
    try {
      proxy.awaitPort();
    } catch (Exception e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** The objects under {@code prefix} of {@code bucket}, as paths relative to the bucket. */
  List<String> keys(String bucket, String prefix) throws IOException {
    Path dir = root.resolve("s3data").resolve(bucket);
    List<String> keys = new ArrayList<>();
    try (var walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString())
          .filter(k -> k.startsWith(prefix))
          .forEach(keys::add);
    }
    return keys;
  }

  private void awaitPort() throws Exception {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "s3proxy exited: " + Files.readString(root.resolve("s3proxy.log")));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        process.waitFor(100, TimeUnit.MILLISECONDS);
      }
    }
    throw new IllegalStateException("s3proxy did not listen within " + START_TIMEOUT);
  }

  private static synchronized String classpath() throws Exception {
    Path module = Path.of("").toAbsolutePath();
    Path file = module.resolve("target/s3proxy/classpath.txt");
    if (!Files.exists(file)) {
      Files.createDirectories(file.getParent());
      if (!resolve(module, file, true) && !resolve(module, file, false)) {
        throw new IllegalStateException(
            "Cannot resolve s3proxy's classpath: "
                + Files.readString(file.resolveSibling("resolve.log")));
      }
    }
    return Files.readString(file).strip();
  }

  private static boolean resolve(Path module, Path file, boolean offline) throws Exception {
    String home = System.getProperty("quiver.maven.home", "");
    List<String> command =
        new ArrayList<>(List.of(home.isEmpty() ? "mvn" : home + "/bin/mvn", "-B", "-q"));
    if (offline) {
      command.add("-o");
    }
    command.addAll(
        List.of(
            "-f",
            module.resolveSibling("flight-server").resolve("src/test/s3proxy/pom.xml").toString(),
            "-Ds3proxy.version=" + System.getProperty("quiver.s3proxy.version", "2.6.0"),
            "dependency:build-classpath",
            "-Dmdep.outputFile=" + file));
    Process resolve =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(file.resolveSibling("resolve.log").toFile())
            .start();
    if (!resolve.waitFor(5, TimeUnit.MINUTES)) {
      resolve.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      return false;
    }
    return resolve.exitValue() == 0 && Files.exists(file);
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
