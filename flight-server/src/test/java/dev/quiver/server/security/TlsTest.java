package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.QuiverClient;
import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.TestCertificates;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** TLS and mutual TLS on the Flight port, with certificates made at test time. */
@ExtendWith(ArrowAllocatorExtension.class)
class TlsTest {
  @TempDir static Path certDir;
  private static TestCertificates certs;
  @TempDir Path dir;
  private QuiverServer server;

  @BeforeAll
  static void makeCertificates() throws Exception {
    certs = TestCertificates.create(certDir);
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private QuiverServer start(boolean mutual) throws Exception {
    Path users = SecureServers.usersFile(dir, Map.of("alice", "*=read,write"));
    Map<String, String> flags =
        new java.util.HashMap<>(
            Map.of(
                "security.users-file", users.toString(),
                "security.tls-cert", certs.serverCert().toString(),
                "security.tls-key", certs.serverKey().toString()));
    if (mutual) {
      flags.put("security.tls-client-ca", certs.ca().toString());
    }
    server = SecureServers.start(dir, flags);
    return server;
  }

  private FlightClient client(BufferAllocator allocator, Path trust, Path cert, Path key)
      throws Exception {
    Location location = Location.forGrpcTls("127.0.0.1", server.port());
    FlightClient.Builder builder = FlightClient.builder(allocator, location);
    try (InputStream roots = Files.newInputStream(trust)) {
      builder.trustedCertificates(roots);
      if (cert != null) {
        try (InputStream certStream = Files.newInputStream(cert);
            InputStream keyStream = Files.newInputStream(key)) {
          builder.clientCertificate(certStream, keyStream);
          return builder.build();
        }
      }
      return builder.build();
    }
  }

  @Test
  void aClientThatTrustsTheCaLogsInOverTls(BufferAllocator allocator) throws Exception {
    start(false);
    assertThat(server.uri()).isEqualTo("grpc+tls://127.0.0.1:" + server.port());
    try (FlightClient client = client(allocator, certs.ca(), null, null)) {
      CallOption token = SecureServers.logIn(client, "alice");
      SecureServers.put(client, allocator, "tls", "t", 3, token);
      assertThat(client.listFlights(Criteria.ALL, token)).hasSize(1);
    }
  }

  @Test
  void theSdkConnectsWithTrustedCertificatesAClientCertificateAndCredentials(
      BufferAllocator allocator) throws Exception {
    start(true);
    ClientOptions options =
        ClientOptions.builder()
            .parentAllocator(allocator)
            .trustedCertificates(certs.ca())
            .clientCertificate(certs.clientCert(), certs.clientKey())
            .credentials("alice", SecureServers.password("alice"))
            .build();
    try (QuiverClient client =
        QuiverClient.connect(Location.forGrpcTls("127.0.0.1", server.port()), options)) {
      assertThat(client.listTables()).isEmpty();
      assertThat(client.serverInfo().location()).startsWith("grpc+tls://");
    }
  }

  @Test
  void plainTextAndUntrustedClientsAreRefused(BufferAllocator allocator) throws Exception {
    start(false);
    try (FlightClient plain =
        FlightClient.builder(allocator, Location.forGrpcInsecure("127.0.0.1", server.port()))
            .build()) {
      assertThatThrownBy(() -> plain.authenticateBasicToken("alice", "x"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE));
    }
    try (FlightClient untrusting = client(allocator, certs.otherCa(), null, null)) {
      assertThatThrownBy(() -> SecureServers.logIn(untrusting, "alice"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE));
    }
  }

  @Test
  void mutualTlsNeedsAClientCertificateTheCaSigned(BufferAllocator allocator) throws Exception {
    start(true);
    try (FlightClient withCert =
        client(allocator, certs.ca(), certs.clientCert(), certs.clientKey())) {
      CallOption token = SecureServers.logIn(withCert, "alice");
      assertThat(withCert.listFlights(Criteria.ALL, token)).isEmpty();
    }
    try (FlightClient withoutCert = client(allocator, certs.ca(), null, null)) {
      assertThatThrownBy(() -> SecureServers.logIn(withoutCert, "alice"))
          .isInstanceOfSatisfying(
              FlightRuntimeException.class,
              e -> assertThat(e.status().code()).isEqualTo(FlightStatusCode.UNAVAILABLE));
    }
  }
}
