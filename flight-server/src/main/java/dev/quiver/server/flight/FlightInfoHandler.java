package dev.quiver.server.flight;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.ScanShares;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.iceberg.Snapshot;

/**
 * GetFlightInfo, GetSchema and ListFlights over tables: plans a scan against its pinned snapshot
 * and cuts it into endpoints whose tickets each read a disjoint share of the files.
 */
final class FlightInfoHandler {
  private final IcebergTableStore store;
  private final ServerConfig config;
  private final Supplier<List<Location>> nodes;

  /** Where the next plan's first endpoint goes, so one-endpoint scans spread over the nodes too. */
  private final AtomicInteger rotation = new AtomicInteger();

  /**
   * {@code nodes} gives the live nodes' locations for each plan: endpoints go to them in turn, or
   * carry no location (read from the node asked) when it is empty.
   */
  FlightInfoHandler(IcebergTableStore store, ServerConfig config, Supplier<List<Location>> nodes) {
    this.store = store;
    this.config = config;
    this.nodes = nodes;
  }

  FlightInfo flightInfo(FlightDescriptor descriptor, ScanRequest request) {
    ScanPlan plan = ScanPlan.plan(store, request);
    int shares =
        request.limit() >= 0
            ? 1 // a limit applies per endpoint, so a limited scan is one endpoint
            : ScanShares.count(
                plan.files(),
                config.flight().endpointTargetBytes(),
                config.flight().maxEndpoints());
    List<List<ScanFile>> split = ScanShares.split(plan.files(), shares);
    List<FlightEndpoint> endpoints = new ArrayList<>();
    // Any node serves any ticket (it names the snapshot and the share), so shares go round-robin
    // over the live nodes and a client reads from all of them at once.
    List<Location> live = nodes.get();
    int next = live.isEmpty() ? 0 : Math.floorMod(rotation.getAndIncrement(), live.size());
    for (int i = 0; i < shares; i++) {
      if (i > 0 && split.get(i).isEmpty()) {
        continue;
      }
      Ticket ticket = new Ticket(request.toTicket(plan.snapshotId(), i, shares).toByteArray());
      if (live.isEmpty()) {
        endpoints.add(new FlightEndpoint(ticket));
      } else {
        endpoints.add(new FlightEndpoint(ticket, live.get(next)));
        next = (next + 1) % live.size();
      }
    }
    long records = request.isFullScan() ? plan.totalRecords() : -1;
    if (request.filter().isEmpty() && request.limit() >= 0 && plan.totalRecords() >= 0) {
      records = Math.min(request.limit(), plan.totalRecords());
    }
    return FlightInfo.builder(plan.schema(), descriptor, endpoints)
        .setBytes(plan.totalBytes())
        .setRecords(records)
        .setOrdered(true)
        .build();
  }

  /** Lists the tables of the namespaces {@code visible} accepts (those the caller may read). */
  void listFlights(
      Criteria criteria,
      java.util.function.Predicate<String> visible,
      StreamListener<FlightInfo> listener) {
    byte[] expression = criteria == null ? null : criteria.getExpression();
    Optional<String> namespace =
        expression == null || expression.length == 0
            ? Optional.empty()
            : Optional.of(new String(expression, StandardCharsets.UTF_8));
    if (namespace.isPresent() && !TableId.isValidName(namespace.get())) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_NAME,
          "ListFlights criteria must be a namespace name, not '%s'",
          namespace.get().length() > 100
              ? namespace.get().substring(0, 100) + "..."
              : namespace.get());
    }
    for (TableId id : store.list(namespace)) {
      if (!visible.test(id.namespace())) {
        continue;
      }
      Optional<QuiverTable> table = store.findListed(id);
      if (table.isEmpty()) {
        continue; // dropped while listing, or a table Quiver cannot serve
      }
      Snapshot current = table.get().table().currentSnapshot();
      Map<String, String> summary = current == null ? Map.of() : current.summary();
      listener.onNext(
          FlightInfo.builder(table.get().arrowSchema(), FlightDescriptor.path(id.path()), List.of())
              .setRecords(records(summary))
              .setBytes(Long.parseLong(summary.getOrDefault("total-files-size", "0")))
              .build());
    }
    listener.onCompleted();
  }

  /** The snapshot's rows; -1 (unknown) when it has row-level deletes, which only a read counts. */
  private static long records(Map<String, String> summary) {
    long deletes =
        Long.parseLong(summary.getOrDefault("total-position-deletes", "0"))
            + Long.parseLong(summary.getOrDefault("total-equality-deletes", "0"));
    return deletes > 0 ? -1 : Long.parseLong(summary.getOrDefault("total-records", "0"));
  }
}
