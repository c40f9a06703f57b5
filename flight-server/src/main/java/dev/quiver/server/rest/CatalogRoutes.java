package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.TableId;
import dev.quiver.server.security.Right;
import dev.quiver.server.table.CatalogTables;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.Endpoint;
import org.apache.iceberg.rest.RESTCatalogProperties.SnapshotMode;
import org.apache.iceberg.rest.RESTUtil;
import org.apache.iceberg.rest.requests.CreateNamespaceRequest;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.RenameTableRequest;
import org.apache.iceberg.rest.requests.UpdateNamespacePropertiesRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.ListNamespacesResponse;

/**
 * The Iceberg REST catalog's routes under {@code /v1}, each checked against the caller's namespace
 * grants and run by Iceberg's {@link CatalogHandlers} over the server's catalog ({@link
 * CatalogTables}): read to list and load, write to create, commit, rename and drop.
 *
 * <p>Namespaces and table names are Quiver's (one level, {@code [A-Za-z_][A-Za-z0-9_]{0,127}}), so
 * that every table an engine makes here is one Flight serves too. Paging parameters are ignored:
 * lists come whole, which the spec allows. Thread-safe.
 */
final class CatalogRoutes {
  /** The endpoints {@link #handle} serves, as {@code GET /v1/config} declares them. */
  static final List<Endpoint> ENDPOINTS =
      List.of(
          Endpoint.V1_LIST_NAMESPACES,
          Endpoint.V1_LOAD_NAMESPACE,
          Endpoint.V1_NAMESPACE_EXISTS,
          Endpoint.V1_CREATE_NAMESPACE,
          Endpoint.V1_UPDATE_NAMESPACE,
          Endpoint.V1_DELETE_NAMESPACE,
          Endpoint.V1_LIST_TABLES,
          Endpoint.V1_LOAD_TABLE,
          Endpoint.V1_TABLE_EXISTS,
          Endpoint.V1_CREATE_TABLE,
          Endpoint.V1_UPDATE_TABLE,
          Endpoint.V1_DELETE_TABLE,
          Endpoint.V1_RENAME_TABLE,
          Endpoint.V1_REGISTER_TABLE,
          Endpoint.V1_REPORT_METRICS,
          Endpoint.V1_LIST_VIEWS,
          Endpoint.V1_LOAD_VIEW,
          Endpoint.V1_VIEW_EXISTS);

  private static final String SEPARATOR = "%1F";

  private final CatalogTables tables;
  private final RestAccess access;

  CatalogRoutes(CatalogTables tables, RestAccess access) {
    this.tables = requireNonNull(tables, "tables is null");
    this.access = requireNonNull(access, "access is null");
  }

  /** Answers {@code call}: 404 for a path the catalog does not have, 405 for a wrong method. */
  RestAnswer handle(RestCall call) throws IOException {
    List<String> p = call.path();
    if (p.size() < 2 || !p.get(0).equals("v1")) {
      throw noRoute(call);
    }
    if (p.size() == 2 && p.get(1).equals("config")) {
      return on(call, Set.of("GET"), () -> config());
    }
    if (p.size() == 3 && p.get(1).equals("tables") && p.get(2).equals("rename")) {
      return on(call, Set.of("POST"), () -> rename(call));
    }
    if (!p.get(1).equals("namespaces")) {
      throw noRoute(call);
    }
    if (p.size() == 2) {
      return call.method().equals("POST")
          ? on(call, Set.of("GET", "POST"), () -> createNamespace(call))
          : on(call, Set.of("GET", "POST"), () -> listNamespaces(call));
    }
    Namespace ns = namespace(p.get(2));
    if (p.size() == 3) {
      return switch (call.method()) {
        case "DELETE" -> write(call, ns, () -> dropNamespace(ns));
        default -> on(call, Set.of("GET", "HEAD", "DELETE"), () -> loadNamespace(call, ns));
      };
    }
    String kind = p.get(3);
    if (p.size() == 4) {
      switch (kind) {
        case "properties":
          return on(call, Set.of("POST"), () -> updateProperties(call, ns));
        case "register":
          return on(call, Set.of("POST"), () -> register(call, ns));
        case "tables":
          return call.method().equals("POST")
              ? on(call, Set.of("GET", "POST"), () -> createTable(call, ns))
              : on(call, Set.of("GET", "POST"), () -> listTables(call, ns));
        case "views":
          return on(call, Set.of("GET"), () -> listViews(call, ns));
        default:
          throw noRoute(call);
      }
    }
    TableIdentifier ident = TableIdentifier.of(ns, name(p.get(4)));
    if (p.size() == 5 && kind.equals("tables")) {
      return switch (call.method()) {
        case "POST" -> write(call, ns, () -> commit(call, ident));
        case "DELETE" -> write(call, ns, () -> drop(call, ident));
        default -> on(call, Set.of("GET", "HEAD", "POST", "DELETE"), () -> loadTable(call, ident));
      };
    }
    if (p.size() == 5 && kind.equals("views")) {
      return on(call, Set.of("GET", "HEAD"), () -> loadView(call, ident));
    }
    if (p.size() == 6 && kind.equals("tables") && p.get(5).equals("metrics")) {
      // Scan and commit reports: accepted and dropped; the server's own metrics cover commits.
      return on(
          call,
          Set.of("POST"),
          () -> {
            access.check(call.user(), Right.READ, ns);
            return RestAnswer.NO_CONTENT;
          });
    }
    throw noRoute(call);
  }

  private RestAnswer config() {
    return RestAnswer.ok(ConfigResponse.builder().withEndpoints(ENDPOINTS).build());
  }

  private RestAnswer listNamespaces(RestCall call) {
    String parent = call.query().get("parent");
    Namespace of =
        parent == null || parent.isEmpty()
            ? Namespace.empty()
            : RESTUtil.namespaceFromQueryParam(parent);
    ListNamespacesResponse all = tables.run(c -> CatalogHandlers.listNamespaces(c, of));
    return RestAnswer.ok(
        ListNamespacesResponse.builder()
            .addAll(
                all.namespaces().stream()
                    .filter(ns -> access.may(call.user(), Right.READ, ns))
                    .toList())
            .build());
  }

  private RestAnswer createNamespace(RestCall call) throws IOException {
    CreateNamespaceRequest request = call.body(CreateNamespaceRequest.class);
    request.validate();
    Namespace ns = request.namespace();
    checkNamespace(ns);
    access.check(call.user(), Right.WRITE, ns);
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.createNamespace(c, request)));
  }

  private RestAnswer loadNamespace(RestCall call, Namespace ns) {
    access.check(call.user(), Right.READ, ns);
    if (call.method().equals("HEAD")) {
      tables.run(
          c -> {
            CatalogHandlers.namespaceExists(c, ns);
            return null;
          });
      return RestAnswer.NO_CONTENT;
    }
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.loadNamespace(c, ns)));
  }

  private RestAnswer dropNamespace(Namespace ns) {
    tables.run(
        c -> {
          CatalogHandlers.dropNamespace(c, ns);
          return null;
        });
    return RestAnswer.NO_CONTENT;
  }

  private RestAnswer updateProperties(RestCall call, Namespace ns) throws IOException {
    access.check(call.user(), Right.WRITE, ns);
    UpdateNamespacePropertiesRequest request = call.body(UpdateNamespacePropertiesRequest.class);
    return RestAnswer.ok(
        tables.run(c -> CatalogHandlers.updateNamespaceProperties(c, ns, request)));
  }

  private RestAnswer listTables(RestCall call, Namespace ns) {
    access.check(call.user(), Right.READ, ns);
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.listTables(c, ns)));
  }

  private RestAnswer createTable(RestCall call, Namespace ns) throws IOException {
    access.check(call.user(), Right.WRITE, ns);
    CreateTableRequest request = call.body(CreateTableRequest.class);
    request.validate();
    name(request.name());
    return RestAnswer.ok(tables.create(ns, request));
  }

  private RestAnswer register(RestCall call, Namespace ns) throws IOException {
    access.check(call.user(), Right.WRITE, ns);
    RegisterTableRequest request = call.body(RegisterTableRequest.class);
    request.validate();
    name(request.name());
    return RestAnswer.ok(tables.register(ns, request));
  }

  private RestAnswer loadTable(RestCall call, TableIdentifier ident) {
    access.check(call.user(), Right.READ, ident.namespace());
    if (call.method().equals("HEAD")) {
      tables.run(
          c -> {
            CatalogHandlers.tableExists(c, ident);
            return null;
          });
      return RestAnswer.NO_CONTENT;
    }
    SnapshotMode mode =
        "refs".equalsIgnoreCase(call.query().get("snapshots"))
            ? SnapshotMode.REFS
            : SnapshotMode.ALL;
    // No credential vending: the response's config stays empty, storage keys never leave.
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.loadTable(c, ident, mode)));
  }

  private RestAnswer commit(RestCall call, TableIdentifier ident) throws IOException {
    UpdateTableRequest request = call.body(UpdateTableRequest.class);
    if (request.identifier() != null && !request.identifier().equals(ident)) {
      throw new IllegalArgumentException(
          String.format(
              "The commit names table %s but was sent to table %s", request.identifier(), ident));
    }
    return RestAnswer.ok(tables.commit(ident, request));
  }

  private RestAnswer drop(RestCall call, TableIdentifier ident) {
    if (Boolean.parseBoolean(call.query().get("purgeRequested"))) {
      tables.dropAndPurge(ident);
    } else {
      tables.drop(ident);
    }
    return RestAnswer.NO_CONTENT;
  }

  private RestAnswer rename(RestCall call) throws IOException {
    RenameTableRequest request = call.body(RenameTableRequest.class);
    request.validate();
    checkNamespace(request.source().namespace());
    checkNamespace(request.destination().namespace());
    name(request.destination().name());
    access.check(call.user(), Right.WRITE, request.source().namespace());
    access.check(call.user(), Right.WRITE, request.destination().namespace());
    tables.rename(request.source(), request.destination());
    return RestAnswer.NO_CONTENT;
  }

  private RestAnswer listViews(RestCall call, Namespace ns) {
    access.check(call.user(), Right.READ, ns);
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.listViews(c, ns)));
  }

  private RestAnswer loadView(RestCall call, TableIdentifier ident) {
    access.check(call.user(), Right.READ, ident.namespace());
    if (call.method().equals("HEAD")) {
      tables.run(
          c -> {
            CatalogHandlers.viewExists(c, ident);
            return null;
          });
      return RestAnswer.NO_CONTENT;
    }
    return RestAnswer.ok(tables.run(c -> CatalogHandlers.loadView(c, ident)));
  }

  /** A route that needs write on {@code ns}. */
  private RestAnswer write(RestCall call, Namespace ns, Route route) throws IOException {
    access.check(call.user(), Right.WRITE, ns);
    return route.run();
  }

  /** Runs {@code route} if the call's method is one of {@code methods}, else 405. */
  private static RestAnswer on(RestCall call, Set<String> methods, Route route) throws IOException {
    if (!methods.contains(call.method())) {
      throw new RestException(
          new RestError(
              405,
              "MethodNotAllowedException",
              String.format(
                  "Method %s is not allowed on /%s; use %s",
                  call.method(), String.join("/", call.path()), String.join(", ", methods))));
    }
    return route.run();
  }

  private static RestException noRoute(RestCall call) {
    return new RestException(
        RestError.notFound(
            String.format(
                "The Iceberg REST catalog has no route %s /%s",
                call.method(), String.join("/", call.path()))));
  }

  /** The namespace a path segment names, checked to be a Quiver namespace. */
  private static Namespace namespace(String segment) {
    Namespace ns = RESTUtil.decodeNamespace(segment, SEPARATOR);
    checkNamespace(ns);
    return ns;
  }

  private static void checkNamespace(Namespace ns) {
    if (ns.length() != 1 || !TableId.isValidName(ns.level(0))) {
      throw new RestException(
          RestError.badRequest(
              String.format(
                  "Invalid namespace '%s': Quiver namespaces have one level named"
                      + " [A-Za-z_][A-Za-z0-9_]{0,127}",
                  ns)));
    }
  }

  private static String name(String segment) {
    String name = RESTUtil.decodeString(segment);
    if (!TableId.isValidName(name)) {
      throw new RestException(
          RestError.badRequest(
              String.format(
                  "Invalid table name '%s': names match [A-Za-z_][A-Za-z0-9_]{0,127}", name)));
    }
    return name;
  }

  /** A route's work, which may read the request body. */
  @FunctionalInterface
  private interface Route {
    RestAnswer run() throws IOException;
  }
}
