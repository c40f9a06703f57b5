package dev.quiver.server.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad REST call gets the spec's status and an ErrorResponse naming the object. */
@Timeout(120)
class RestErrorsTest {
  static final String SCHEMA =
      "{\"type\":\"struct\",\"schema-id\":0,\"fields\":"
          + "[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"}]}";

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dir;
  RestHttp http;

  @BeforeEach
  void start() throws Exception {
    QuiverServer server = servers.start(dir.resolve("data"), "catalog.rest-port", "0");
    http = new RestHttp(server.restCatalogUri().orElseThrow());
    assertThat(http.post("/v1/namespaces", "{\"namespace\":[\"sales\"]}", null).code())
        .isEqualTo(200);
  }

  @Test
  void configDeclaresTheEndpointsServed() throws Exception {
    RestHttp.Answer config = http.get("/v1/config", null);
    assertThat(config.code()).isEqualTo(200);
    assertThat(config.json().path("endpoints").toString())
        .contains("GET /v1/{prefix}/namespaces/{namespace}/views")
        .contains("POST /v1/{prefix}/namespaces/{namespace}/tables/{table}")
        .contains("POST /v1/{prefix}/tables/rename")
        .doesNotContain("/v1/transactions/commit")
        .doesNotContain("credentials");
  }

  @Test
  void malformedJsonAndInvalidNamesAre400() throws Exception {
    RestHttp.Answer malformed = http.post("/v1/namespaces", "{not json", null);
    assertThat(malformed.code()).isEqualTo(400);
    assertThat(malformed.errorType()).isEqualTo("BadRequestException");
    assertThat(malformed.errorMessage()).startsWith("Malformed request body");
    assertThat(malformed.json().path("error").path("code").asInt()).isEqualTo(400);

    RestHttp.Answer empty = http.post("/v1/namespaces/sales/tables", "", null);
    assertThat(empty.code()).isEqualTo(400);
    assertThat(empty.errorMessage()).startsWith("Malformed request body");

    RestHttp.Answer badName = http.post("/v1/namespaces", "{\"namespace\":[\"bad-name\"]}", null);
    assertThat(badName.code()).isEqualTo(400);
    assertThat(badName.errorMessage()).contains("Invalid namespace 'bad-name'");

    RestHttp.Answer noSchema = http.post("/v1/namespaces/sales/tables", "{\"name\":\"t\"}", null);
    assertThat(noSchema.code()).isEqualTo(400);
    assertThat(noSchema.errorMessage()).contains("schema");
  }

  @Test
  void unknownNamespacesTablesAndViewsAre404() throws Exception {
    RestHttp.Answer namespace = http.get("/v1/namespaces/nope", null);
    assertThat(namespace.code()).isEqualTo(404);
    assertThat(namespace.errorType()).isEqualTo("NoSuchNamespaceException");
    assertThat(namespace.errorMessage()).contains("nope");

    RestHttp.Answer table = http.get("/v1/namespaces/sales/tables/missing", null);
    assertThat(table.code()).isEqualTo(404);
    assertThat(table.errorType()).isEqualTo("NoSuchTableException");
    assertThat(table.errorMessage()).contains("sales.missing");

    RestHttp.Answer head = http.send("HEAD", "/v1/namespaces/sales/tables/missing", null, "", null);
    assertThat(head.code()).isEqualTo(404);

    RestHttp.Answer commit =
        http.post(
            "/v1/namespaces/sales/tables/missing", "{\"requirements\":[],\"updates\":[]}", null);
    assertThat(commit.code()).isEqualTo(404);
    assertThat(commit.errorMessage()).contains("sales.missing");

    RestHttp.Answer views = http.get("/v1/namespaces/sales/views", null);
    assertThat(views.code()).isEqualTo(200);
    assertThat(views.json().path("identifiers").size()).isZero();
    RestHttp.Answer view = http.get("/v1/namespaces/sales/views/missing", null);
    assertThat(view.code()).isEqualTo(404);
    assertThat(view.errorType()).isEqualTo("NoSuchViewException");
    assertThat(view.errorMessage()).contains("sales.missing");
  }

  @Test
  void takenNamesAndFailedRequirementsAre409() throws Exception {
    RestHttp.Answer again = http.post("/v1/namespaces", "{\"namespace\":[\"sales\"]}", null);
    assertThat(again.code()).isEqualTo(409);
    assertThat(again.errorType()).isEqualTo("AlreadyExistsException");
    assertThat(again.errorMessage()).contains("sales");

    String create = "{\"name\":\"orders\",\"schema\":" + SCHEMA + "}";
    RestHttp.Answer created = http.post("/v1/namespaces/sales/tables", create, null);
    assertThat(created.code()).isEqualTo(200);
    assertThat(created.json().path("metadata-location").asText()).endsWith(".metadata.json");
    assertThat(created.json().path("config").size())
        .as("no credential vending: no storage settings or keys")
        .isZero();
    RestHttp.Answer taken = http.post("/v1/namespaces/sales/tables", create, null);
    assertThat(taken.code()).isEqualTo(409);
    assertThat(taken.errorType()).isEqualTo("AlreadyExistsException");
    assertThat(taken.errorMessage()).contains("sales.orders");

    RestHttp.Answer stale =
        http.post(
            "/v1/namespaces/sales/tables/orders",
            "{\"requirements\":[{\"type\":\"assert-ref-snapshot-id\",\"ref\":\"main\","
                + "\"snapshot-id\":123}],\"updates\":[{\"action\":\"set-properties\","
                + "\"updates\":{\"k\":\"v\"}}]}",
            null);
    assertThat(stale.code()).isEqualTo(409);
    assertThat(stale.errorType()).isEqualTo("CommitFailedException");
    assertThat(stale.errorMessage()).contains("main");

    RestHttp.Answer notEmpty = http.send("DELETE", "/v1/namespaces/sales", null, "", null);
    assertThat(notEmpty.code()).isEqualTo(409);
    assertThat(notEmpty.errorType()).isEqualTo("NamespaceNotEmptyException");
    assertThat(notEmpty.errorMessage()).contains("sales");
  }

  @Test
  void locationsOutsideTheNamespaceFolderAreForbidden() throws Exception {
    RestHttp.Answer outside =
        http.post(
            "/v1/namespaces/sales/tables",
            "{\"name\":\"escape\",\"location\":\"file:///etc/quiver\",\"schema\":" + SCHEMA + "}",
            null);
    assertThat(outside.code()).isEqualTo(403);
    assertThat(outside.errorType()).isEqualTo("ForbiddenException");
    assertThat(outside.errorMessage())
        .contains("file:///etc/quiver")
        .contains("sales.escape")
        .contains("is not under")
        .contains("/warehouse/sales/");
    RestHttp.Answer register =
        http.post(
            "/v1/namespaces/sales/register",
            "{\"name\":\"stolen\",\"metadata-location\":\"/tmp/x/v1.metadata.json\"}",
            null);
    assertThat(register.code()).isEqualTo(403);
    assertThat(register.errorType()).isEqualTo("ForbiddenException");
    assertThat(register.errorMessage())
        .contains("metadata file /tmp/x/v1.metadata.json is not under");
    assertThat(http.get("/v1/namespaces/sales/tables", null).json().path("identifiers").size())
        .as("nothing was created")
        .isZero();
  }

  @Test
  void unknownRoutesAre404AndWrongMethods405() throws Exception {
    RestHttp.Answer route = http.get("/v1/nothing/here", null);
    assertThat(route.code()).isEqualTo(404);
    assertThat(route.errorMessage()).contains("GET /v1/nothing/here");
    RestHttp.Answer method = http.send("PUT", "/v1/namespaces", "{}", "application/json", null);
    assertThat(method.code()).isEqualTo(405);
    assertThat(method.errorMessage()).contains("PUT").contains("/v1/namespaces");
    RestHttp.Answer metrics =
        http.post("/v1/namespaces/sales/tables/orders/metrics", "{\"report-type\":\"x\"}", null);
    assertThat(metrics.code()).as("reports are accepted").isEqualTo(204);
  }

  @Test
  void bodiesPastTheLimitAre413() throws Exception {
    String huge = "[" + "0,".repeat(RestCatalogServer.MAX_BODY_BYTES / 2) + "0]";
    RestHttp.Answer tooLarge = http.post("/v1/namespaces", huge, null);
    assertThat(tooLarge.code()).isEqualTo(413);
    assertThat(tooLarge.errorMessage())
        .contains(Integer.toString(RestCatalogServer.MAX_BODY_BYTES));
    assertThat(http.get("/v1/config", null).code()).as("the server keeps serving").isEqualTo(200);
  }
}
