package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Runs s3proxy (an S3 API over a temp folder, filesystem-nio2 backend) in a JVM of its own for a
 * test class, on a free 127.0.0.1 port, with one empty bucket. Register it with
 * {@code @RegisterExtension static final S3ProxyExtension S3 = new S3ProxyExtension();}.
 *
 * <p>s3proxy's classpath is resolved once with Maven from {@code src/test/s3proxy/pom.xml} into
 * {@code target/s3proxy/classpath.txt}. The server finds the credentials through the AWS SDK's
 * default chain: this extension sets the {@code aws.accessKeyId} and {@code aws.secretAccessKey}
 * system properties while the class runs.
 */
public final class S3ProxyExtension implements BeforeAllCallback, AfterAllCallback {
  public static final String ACCESS_KEY = "quiverkey";
  public static final String SECRET_KEY = "quiversecret";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration RESOLVE_TIMEOUT = Duration.ofMinutes(5);

  private final String bucket;
  private Path root;
  private Process process;
  private int port;

  public S3ProxyExtension() {
    this("warehouse");
  }

  public S3ProxyExtension(String bucket) {
    this.bucket = bucket;
  }

  /** The endpoint, {@code http://127.0.0.1:port}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public String bucket() {
    return bucket;
  }

  /** The server settings (key, value, ...) for a warehouse under {@code prefix} in the bucket. */
  public String[] settings(String prefix) {
    return new String[] {
      "storage.warehouse",
      "s3://" + bucket + "/" + prefix,
      "storage.s3.endpoint",
      endpoint(),
      "storage.s3.path-style-access",
      "true",
    };
  }

  /** An S3 client for checks, built like the server's. */
  public S3Client client() {
    S3ClientFactory factory = new S3ClientFactory();
    factory.initialize(Map.of("s3.endpoint", endpoint(), "s3.path-style-access", "true"));
    return factory.s3();
  }

  /** The keys of every object under {@code prefix}. */
  public List<String> keys(String prefix) {
    try (S3Client s3 = client()) {
      return s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(prefix)).contents().stream()
          .map(o -> o.key())
          .toList();
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    root = Files.createTempDirectory("s3proxy");
    Path data = Files.createDirectories(root.resolve("data"));
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Path properties = root.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=" + endpoint(),
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "s3proxy.ignore-unknown-headers=true",
            "jclouds.provider=filesystem-nio2",
            "jclouds.filesystem.basedir=" + data,
            "jclouds.identity=" + ACCESS_KEY,
            "jclouds.credential=" + SECRET_KEY,
            ""));
    Path logback = root.resolve("logback.xml");
    Files.writeString(
        logback,
        "<configuration><appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">"
            + "<encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>"
            + "<root level=\"INFO\"><appender-ref ref=\"OUT\"/></root></configuration>");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-Dlogback.configurationFile=" + logback);
    command.add("-cp");
    command.add(classpath());
    command.add("org.gaul.s3proxy.Main");
    command.add("--properties");
    command.add(properties.toString());
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("s3proxy.log").toFile())
            .start();
    awaitPort();
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    try (S3Client s3 = client()) {
      s3.createBucket(r -> r.bucket(bucket));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    if (process != null) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (root != null) {
      try (Stream<Path> paths = Files.walk(root)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private void awaitPort() throws Exception {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "s3proxy exited with " + process.exitValue() + ": " + log());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        process.waitFor(100, TimeUnit.MILLISECONDS);
      }
    }
    throw new IllegalStateException(
        "s3proxy did not listen within " + START_TIMEOUT + ": " + log());
  }

  private String log() throws IOException {
    return Files.readString(root.resolve("s3proxy.log"), StandardCharsets.UTF_8);
  }

  private static boolean resolve(Path module, Path file, boolean offline) throws Exception {
    String home = System.getProperty("quiver.maven.home", "");
    String mvn = home.isEmpty() ? "mvn" : Path.of(home, "bin", "mvn").toString();
    List<String> command = new ArrayList<>(List.of(mvn, "-B", "-q"));
    if (offline) {
      command.add("-o");
    }
    command.addAll(
        List.of(
            "-f",
            module.resolve("src/test/s3proxy/pom.xml").toString(),
            "-Ds3proxy.version=" + System.getProperty("quiver.s3proxy.version", "2.6.0"),
            "dependency:build-classpath",
            "-Dmdep.outputFile=" + file));
    Process resolve =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(file.resolveSibling("resolve.log").toFile())
            .start();
    if (!resolve.waitFor(RESOLVE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      resolve.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      return false;
    }
    return resolve.exitValue() == 0 && Files.exists(file);
  }

  /** s3proxy's classpath, resolved with Maven the first time. */
  private static synchronized String classpath() throws Exception {
    Path module = Path.of("").toAbsolutePath();
    Path file = module.resolve("target/s3proxy/classpath.txt");
    if (!Files.exists(file)) {
      Files.createDirectories(file.getParent());
      // Offline first (the usual case: the jars are in the local repository), then online.
      if (!resolve(module, file, true)) {
        assertThat(resolve(module, file, false))
            .as(
                "resolving s3proxy's classpath: %s",
                Files.readString(file.resolveSibling("resolve.log")))
            .isTrue();
      }
    }
    return Files.readString(file).strip();
  }
}
