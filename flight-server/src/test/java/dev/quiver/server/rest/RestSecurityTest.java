package dev.quiver.server.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.security.SecureServers;
import dev.quiver.server.security.ServerSecurity;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.TestCertificates;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightCallHeaders;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.HeaderCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.rest.RESTCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The REST catalog under the users file: bearer tokens, the OAuth2 token endpoint, grants, TLS. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class RestSecurityTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dir;

  private QuiverServer start(String... extra) throws Exception {
    Map<String, String> grants = new LinkedHashMap<>();
    grants.put("alice", "sales=read,write");
    grants.put("bob", "sales=read");
    grants.put("ops", "*=read,write");
    Path users = SecureServers.usersFile(dir, grants);
    String[] settings = new String[extra.length + 6];
    settings[0] = "catalog.rest-port";
    settings[1] = "0";
    settings[2] = "security.users-file";
    settings[3] = users.toString();
    settings[4] = "security.login-max-failures";
    settings[5] = "3";
    System.arraycopy(extra, 0, settings, 6, extra.length);
    return servers.start(dir.resolve("data"), settings);
  }

  private static String token(RestHttp http, String user) throws Exception {
    RestHttp.Answer answer =
        http.form(
            "/v1/oauth/tokens",
            "grant_type=client_credentials&client_id="
                + user
                + "&client_secret="
                + SecureServers.password(user)
                + "&scope=catalog");
    assertThat(answer.code()).isEqualTo(200);
    return answer.json().path("access_token").asText();
  }

  @Test
  void callsNeedAValidBearerToken() throws Exception {
    QuiverServer server = start();
    RestHttp http = new RestHttp(server.restCatalogUri().orElseThrow());

    RestHttp.Answer none = http.get("/v1/config", null);
    assertThat(none.code()).isEqualTo(401);
    assertThat(none.errorType()).isEqualTo("NotAuthorizedException");
    assertThat(none.errorMessage()).contains("Authentication required");
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"quiver\"");

    RestHttp.Answer forged = http.get("/v1/config", "v1.YWxpY2U.9999999999999.bm9uY2U.c2ln");
    assertThat(forged.code()).isEqualTo(401);
    assertThat(forged.errorMessage()).contains("bearer token is not valid");

    RestHttp.Answer wrong =
        http.form(
            "/v1/oauth/tokens",
            "grant_type=client_credentials&client_id=alice&client_secret=guess");
    assertThat(wrong.code()).isEqualTo(401);
    assertThat(wrong.json().path("error").asText()).isEqualTo("invalid_client");
    assertThat(wrong.json().path("error_description").asText())
        .isEqualTo("Invalid user name or password");

    RestHttp.Answer grant = http.form("/v1/oauth/tokens", "grant_type=password&username=alice");
    assertThat(grant.code()).isEqualTo(400);
    assertThat(grant.json().path("error").asText()).isEqualTo("unsupported_grant_type");

    // A refresh (token exchange) needs the password as well: a token alone buys no new one.
    String exchange =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
            + "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
            + "&subject_token="
            + token(http, "alice");
    RestHttp.Answer tokenOnly = http.form("/v1/oauth/tokens", exchange);
    assertThat(tokenOnly.code()).isEqualTo(400);
    assertThat(tokenOnly.json().path("error_description").asText())
        .contains("needs the password too");
    RestHttp.Answer withPassword =
        http.sendAuthorized(
            "POST",
            "/v1/oauth/tokens",
            exchange,
            "application/x-www-form-urlencoded",
            "Basic "
                + java.util.Base64.getEncoder()
                    .encodeToString(("alice:" + SecureServers.password("alice")).getBytes()));
    assertThat(withPassword.code()).isEqualTo(200);
    assertThat(withPassword.json().path("access_token").asText()).startsWith("v1.");

    RestHttp.Answer issued =
        http.form(
            "/v1/oauth/tokens",
            "grant_type=client_credentials&client_id=alice&client_secret="
                + SecureServers.password("alice"));
    assertThat(issued.code()).isEqualTo(200);
    assertThat(issued.json().path("token_type").asText()).isEqualTo("bearer");
    assertThat(issued.json().path("expires_in").asInt()).isEqualTo(3600);
    assertThat(issued.json().path("issued_token_type").asText())
        .isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    assertThat(http.get("/v1/config", issued.json().path("access_token").asText()).code())
        .isEqualTo(200);
  }

  @Test
  void failedLoginsLockTheNameAsFlightLoginsDo() throws Exception {
    QuiverServer server = start();
    RestHttp http = new RestHttp(server.restCatalogUri().orElseThrow());
    for (int i = 0; i < 3; i++) {
      assertThat(
              http.form(
                      "/v1/oauth/tokens",
                      "grant_type=client_credentials&client_id=bob&client_secret=guess" + i)
                  .code())
          .isEqualTo(401);
    }
    RestHttp.Answer locked =
        http.form(
            "/v1/oauth/tokens",
            "grant_type=client_credentials&client_id=bob&client_secret="
                + SecureServers.password("bob"));
    assertThat(locked.code()).isEqualTo(401);
    assertThat(locked.json().path("error_description").asText()).contains("Too many failed logins");
  }

  @Test
  void namespaceGrantsDecideWhatEachUserMayDo() throws Exception {
    QuiverServer server = start();
    RestHttp http = new RestHttp(server.restCatalogUri().orElseThrow());
    String alice = token(http, "alice");
    String bob = token(http, "bob");
    String ops = token(http, "ops");
    assertThat(http.post("/v1/namespaces", "{\"namespace\":[\"sales\"]}", alice).code())
        .isEqualTo(200);
    assertThat(http.post("/v1/namespaces", "{\"namespace\":[\"hr\"]}", ops).code()).isEqualTo(200);
    RestHttp.Answer aliceHr = http.post("/v1/namespaces", "{\"namespace\":[\"hr2\"]}", alice);
    assertThat(aliceHr.code()).isEqualTo(403);
    assertThat(aliceHr.errorType()).isEqualTo("ForbiddenException");
    assertThat(aliceHr.errorMessage()).isEqualTo("User alice lacks write on namespace hr2");

    assertThat(http.get("/v1/namespaces", bob).json().path("namespaces").toString())
        .as("bob sees only the namespaces he may read")
        .isEqualTo("[[\"sales\"]]");
    assertThat(http.get("/v1/namespaces/sales/tables", bob).code()).isEqualTo(200);
    RestHttp.Answer bobHr = http.get("/v1/namespaces/hr/tables", bob);
    assertThat(bobHr.code()).isEqualTo(403);
    assertThat(bobHr.errorMessage()).isEqualTo("User bob lacks read on namespace hr");
    RestHttp.Answer bobCreates =
        http.post(
            "/v1/namespaces/sales/tables",
            "{\"name\":\"t\",\"schema\":" + RestErrorsTest.SCHEMA + "}",
            bob);
    assertThat(bobCreates.code()).isEqualTo(403);
    assertThat(bobCreates.errorMessage()).isEqualTo("User bob lacks write on namespace sales");
    RestHttp.Answer bobDrops = http.send("DELETE", "/v1/namespaces/sales", null, "", bob);
    assertThat(bobDrops.code()).isEqualTo(403);
    RestHttp.Answer rename =
        http.post(
            "/v1/tables/rename",
            "{\"source\":{\"namespace\":[\"sales\"],\"name\":\"t\"},"
                + "\"destination\":{\"namespace\":[\"hr\"],\"name\":\"t\"}}",
            alice);
    assertThat(rename.code()).as("a rename needs write on both namespaces").isEqualTo(403);
    assertThat(rename.errorMessage()).isEqualTo("User alice lacks write on namespace hr");
  }

  @Test
  void icebergsClientLogsInWithACredentialAndTheTokenWorksOnFlight(BufferAllocator allocator)
      throws Exception {
    QuiverServer server = start();
    try (RESTCatalog catalog =
        RestCatalogTest.client(
            server, Map.of("credential", "alice:" + SecureServers.password("alice")))) {
      catalog.createNamespace(Namespace.of("sales"), new HashMap<>());
      catalog.createTable(TableIdentifier.of("sales", "orders"), RestCatalogTest.SCHEMA);
      assertThat(catalog.listTables(Namespace.of("sales")))
          .containsExactly(TableIdentifier.of("sales", "orders"));
      assertThatThrownBy(() -> catalog.createNamespace(Namespace.of("hr"), new HashMap<>()))
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("User alice lacks write on namespace hr");
    }
    assertThatThrownBy(
            () -> RestCatalogTest.client(server, Map.of("credential", "alice:wrong")).close())
        .isInstanceOf(NotAuthorizedException.class)
        .hasMessageContaining("Invalid user name or password");

    // One token for both protocols: a token from /v1/oauth/tokens works for a Flight call.
    String token = token(new RestHttp(server.restCatalogUri().orElseThrow()), "bob");
    CallHeaders headers = new FlightCallHeaders();
    headers.insert("authorization", "Bearer " + token);
    try (FlightClient flight = FlightClient.builder(allocator, server.location()).build()) {
      assertThat(flight.listFlights(Criteria.ALL, new HeaderCallOption(headers)))
          .as("bob's REST token is accepted by Flight, which lists the table alice made over REST")
          .extracting(info -> String.join(".", info.getDescriptor().getPath()))
          .containsExactly("sales.orders");
      assertThatThrownBy(() -> flight.listFlights(Criteria.ALL).iterator().hasNext())
          .isInstanceOf(FlightRuntimeException.class)
          .hasMessageContaining("Authentication required")
          .extracting(e -> ((FlightRuntimeException) e).status().code())
          .isEqualTo(FlightStatusCode.UNAUTHENTICATED);
    }
  }

  @Test
  void withATlsCertificateTheCatalogSpeaksHttps() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("certs"));
    QuiverServer server =
        start(
            "security.tls-cert",
            certs.serverCert().toString(),
            "security.tls-key",
            certs.serverKey().toString());
    String uri = server.restCatalogUri().orElseThrow();
    assertThat(uri).startsWith("https://127.0.0.1:");
    SSLContext context = trusting(certs.ca());
    RestHttp https = new RestHttp(HttpClient.newBuilder().sslContext(context).build(), uri);
    String token = token(https, "alice");
    assertThat(https.get("/v1/config", token).code()).isEqualTo(200);
    assertThatThrownBy(() -> new RestHttp(uri.replace("https:", "http:")).get("/v1/config", token))
        .as("no plain HTTP on the TLS port")
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void withAClientCaTheCatalogNeedsAClientCertificate() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("certs"));
    QuiverServer server =
        start(
            "security.tls-cert",
            certs.serverCert().toString(),
            "security.tls-key",
            certs.serverKey().toString(),
            "security.tls-client-ca",
            certs.ca().toString());
    String uri = server.restCatalogUri().orElseThrow();
    // The client side: its certificate and key, trusting the CA that signed the server's.
    SSLContext withCertificate =
        PemTls.context(
            new ServerSecurity.TlsFiles(
                certs.clientCert(), certs.clientKey(), java.util.Optional.of(certs.ca())));
    RestHttp https = new RestHttp(HttpClient.newBuilder().sslContext(withCertificate).build(), uri);
    assertThat(https.get("/v1/config", token(https, "alice")).code()).isEqualTo(200);

    SSLContext without = trusting(certs.ca());
    assertThatThrownBy(
            () ->
                new RestHttp(HttpClient.newBuilder().sslContext(without).build(), uri)
                    .get("/v1/config", null))
        .as("no client certificate: the handshake fails")
        .isInstanceOf(java.io.IOException.class);
  }

  /** A client TLS context that trusts only {@code ca} and presents no certificate. */
  private static SSLContext trusting(Path ca) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(ca)) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
