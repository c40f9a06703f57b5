package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.security.PasswordHash;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.TestCertificates;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real server jar with a users file (made with its own {@code hash-password} command) and TLS,
 * driven by pyarrow (python-security/test_security.py), the Flight SQL JDBC driver and the SDK.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SecurityIT {
  private static final String ALICE_PASSWORD = "alice-Pa55word";
  private static final String BOB_PASSWORD = "bob-Pa55word";
  private static final Duration PYTEST_TIMEOUT = Duration.ofMinutes(10);

  private static Path dir;
  private static TestCertificates certs;
  private static Path users;
  private static QuiverServerProcess tls;
  private static QuiverServerProcess mtls;

  @BeforeAll
  static void startServers() throws Exception {
    dir =
        Files.createDirectories(
            QuiverServerProcess.logsDir().resolve("security-" + UUID.randomUUID()));
    certs = TestCertificates.create(dir.resolve("certs"));
    users = dir.resolve("users");
    Files.writeString(
        users,
        "# made by SecurityIT\n"
            + "alice "
            + hashPasswordCommand(ALICE_PASSWORD)
            + " sales=read,write\n"
            + "bob "
            + PasswordHash.create(BOB_PASSWORD.toCharArray(), PasswordHash.MIN_ITERATIONS)
            + " sales=read\n",
        StandardCharsets.UTF_8);
    List<String> common =
        List.of(
            "--security.users-file", users.toString(),
            "--security.tls-cert", certs.serverCert().toString(),
            "--security.tls-key", certs.serverKey().toString());
    tls = QuiverServerProcess.startWithJvmOptions(List.of(), common.toArray(new String[0]));
    List<String> mutual = new ArrayList<>(common);
    mutual.addAll(List.of("--security.tls-client-ca", certs.ca().toString()));
    mtls = QuiverServerProcess.startWithJvmOptions(List.of(), mutual.toArray(new String[0]));
  }

  @AfterAll
  static void stopServers() {
    if (tls != null) {
      tls.close();
    }
    if (mtls != null) {
      mtls.close();
    }
  }

  /** Runs the server jar's {@code hash-password}, the password on stdin, as an operator would. */
  private static String hashPasswordCommand(String password) throws Exception {
    Path jar =
        Paths.get(QuiverServerProcess.requiredProperty("quiver.server.dir"), "quiver-server.jar");
    Process process =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                "hash-password",
                "--iterations",
                String.valueOf(PasswordHash.MIN_ITERATIONS))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write((password + "\n").getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat(output).startsWith("pbkdf2-sha256:").doesNotContain(password);
    return output.strip();
  }

  private static Location tlsLocation(QuiverServerProcess server) {
    return Location.forGrpcTls("127.0.0.1", server.port());
  }

  private static QuiverClient sdk(BufferAllocator allocator, String user, String password) {
    return QuiverClient.connect(
        tlsLocation(mtls),
        ClientOptions.builder()
            .parentAllocator(allocator)
            .trustedCertificates(certs.ca())
            .clientCertificate(certs.clientCert(), certs.clientKey())
            .credentials(user, password)
            .build());
  }

  @Test
  void pyarrowAuthenticatesOverTlsAndMutualTls() throws Exception {
    Path pytests = Paths.get(QuiverServerProcess.requiredProperty("quiver.pytests.dir"));
    Path python = PythonVenv.ensure(pytests.resolve("requirements.txt"));
    Path suite = pytests.resolveSibling("python-security");
    Path logs = QuiverServerProcess.logsDir();
    ProcessBuilder builder =
        new ProcessBuilder(
                python.toString(),
                "-m",
                "pytest",
                "-q",
                "-rfEs",
                "-p",
                "no:cacheprovider",
                "--junitxml=" + logs.resolve("pytest-security-junit.xml").toAbsolutePath(),
                suite.toString())
            .directory(suite.toFile());
    builder.environment().put("QUIVER_TLS_URI", "grpc+tls://127.0.0.1:" + tls.port());
    builder.environment().put("QUIVER_MTLS_URI", "grpc+tls://127.0.0.1:" + mtls.port());
    builder.environment().put("QUIVER_CA", certs.ca().toString());
    builder.environment().put("QUIVER_CLIENT_CERT", certs.clientCert().toString());
    builder.environment().put("QUIVER_CLIENT_KEY", certs.clientKey().toString());
    builder
        .environment()
        .put("QUIVER_PASSWORDS", "alice=" + ALICE_PASSWORD + ",bob=" + BOB_PASSWORD);
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    int exitCode =
        ChildProcesses.run(
            builder, "[pytest-security] ", logs.resolve("pytest-security.log"), PYTEST_TIMEOUT);
    assertThat(exitCode).as("pytest exit code (see pytest-security.log)").isZero();
    String report = Files.readString(logs.resolve("pytest-security-junit.xml"));
    assertThat(report).contains("tests=\"5\"").contains("skipped=\"0\"");
  }

  private static Connection jdbc(String user, String password) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:arrow-flight-sql://127.0.0.1:"
            + tls.port()
            + "/?useEncryption=true&useSystemTrustStore=false&tlsRootCerts="
            + certs.ca()
            + "&user="
            + user
            + "&password="
            + password);
  }

  @Test
  void theJdbcDriverLogsInWithUserAndPasswordOverTls(BufferAllocator allocator) throws Exception {
    String table = "jdbc_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection alice = jdbc("alice", ALICE_PASSWORD);
        Statement statement = alice.createStatement()) {
      statement.executeUpdate("CREATE TABLE sales." + table + " AS SELECT 42::BIGINT AS id");
      try (ResultSet rows = statement.executeQuery("SELECT id FROM sales." + table)) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getLong(1)).isEqualTo(42);
      }
    }
    try (Connection bob = jdbc("bob", BOB_PASSWORD);
        Statement statement = bob.createStatement()) {
      try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM sales." + table)) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getLong(1)).isEqualTo(1);
      }
      assertThatThrownBy(() -> statement.executeUpdate("DROP TABLE sales." + table))
          .isInstanceOf(SQLException.class)
          .hasStackTraceContaining("User bob lacks write on namespace sales");
      assertThat(SqlJdbcIT.column(bob.getMetaData().getSchemas("quiver", "%"), "TABLE_SCHEM"))
          .as("bob sees only the namespace he may read")
          .containsExactly("sales");
    }
    assertThatThrownBy(
            () -> jdbc("alice", "wrong-password").createStatement().executeQuery("SELECT 1"))
        .isInstanceOf(SQLException.class)
        .hasStackTraceContaining("Invalid user name or password");
  }

  @Test
  void theSdkUsesMutualTlsAndCredentials(BufferAllocator allocator) throws Exception {
    Schema schema = new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true))));
    TableId table = TableId.of("sales", "sdk_" + UUID.randomUUID().toString().substring(0, 8));
    try (QuiverClient alice = sdk(allocator, "alice", ALICE_PASSWORD);
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      ((BigIntVector) root.getVector(0)).setSafe(0, 7);
      root.setRowCount(1);
      assertThat(alice.put(table, root).rows()).isEqualTo(1);
      assertThat(alice.listTables("sales")).contains(table);
    }
    try (QuiverClient bob = sdk(allocator, "bob", BOB_PASSWORD)) {
      assertThatThrownBy(() -> bob.dropTable(table))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.PERMISSION_DENIED))
          .hasMessageContaining("User bob lacks write on namespace sales");
    }
  }

  @Test
  void withoutAuthenticationTheServerRefusesToListenBeyondLoopback() {
    assertThatThrownBy(
            () -> QuiverServerProcess.startWithJvmOptions(List.of(), "--host", "0.0.0.0"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Refusing to listen on 0.0.0.0 without authentication");
  }
}
