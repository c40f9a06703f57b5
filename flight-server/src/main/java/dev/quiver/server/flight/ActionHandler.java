package dev.quiver.server.flight;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.cluster.ClusterDatabase;
import dev.quiver.server.cluster.ClusterNodes;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.config.Versions;
import dev.quiver.server.maintenance.CompactionReport;
import dev.quiver.server.maintenance.TableCompactor;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.MemoryReport;
import dev.quiver.server.memory.MemoryWaits;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.memory.UploadPacing;
import dev.quiver.server.security.AccessControl;
import dev.quiver.server.security.Right;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlTurns;
import dev.quiver.server.table.ExpiryReport;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.OrphanReport;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.parquet.DuckDbParquetWriter;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.Result;
import org.apache.iceberg.Snapshot;

/** DoAction and ListActions: table administration and introspection, JSON in and out. */
final class ActionHandler {
  static final List<ActionType> ACTIONS =
      List.of(
          new ActionType(
              QuiverActions.DROP_TABLE,
              "Drop a table and delete its files. Body: {\"namespace\": \"ns\", \"table\": \"t\"}."
                  + " Result: {\"dropped\": \"ns.t\"}."),
          new ActionType(
              QuiverActions.LIST_SNAPSHOTS,
              "List a table's snapshots, oldest first. Body: {\"namespace\": \"ns\", \"table\":"
                  + " \"t\"}. Result: {\"table\", \"current_snapshot_id\", \"snapshots\": [...]}."),
          new ActionType(
              QuiverActions.SERVER_INFO,
              "Describe the server: name, version, Arrow and Iceberg versions, data folder, warehouse."),
          new ActionType(
              QuiverActions.MEMORY_REPORT,
              "Report Arrow memory. Empty body. Result: {\"limits\": {\"memory.total\","
                  + " \"memory.query-limit\", \"memory.call-reservation\" (bytes),"
                  + " \"memory.admission-queue\" (calls), \"memory.admission-timeout_ms\","
                  + " \"memory.transport-reserve\", \"arrow\" (memory.total less"
                  + " \"duckdb.memory-limit\" and \"sql.memory-limit\")}, \"allocated\","
                  + " \"transport_allocated\", \"sql_import_allocated\" (DoGet batches between"
                  + " DuckDB and their call, outside arrow), \"peak\" (bytes), \"pressure\""
                  + " (allocated / arrow),"
                  + " \"admission\": {\"queued\", \"waits\", \"refused\"}, \"upload_pacing\":"
                  + " {\"waiting\", \"waits\", \"waited_ms\", \"longest_ms\", \"refused\""
                  + " (incoming batches that waited for memory to be decoded into),"
                  + " \"read_aheads_held\" (times a"
                  + " put's next batch was not asked for ahead while memory was short)},"
                  + " \"room_waits\": {\"waiting\", \"waits\", \"waited_ms\", \"longest_ms\","
                  + " \"refused\"} (running calls that waited for memory before their next batch"
                  + " or allocation, instead of failing),"
                  + " \"writer_turns\": {\"slots\", \"queued\", \"waits\", \"refused\"} (puts"
                  + " waiting for the Parquet writer, whose row groups share duckdb.memory-limit),"
                  + " \"calls\":"
                  + " [{\"name\", \"allocated\", \"peak\", \"limit\", \"age_ms\","
                  + " \"draining\" (ended; its last batches still with gRPC)}],"
                  + " \"limit_hits\": [{\"name\", \"limit_key\", \"limit\", \"at\"}] (the"
                  + " last 20, oldest first), \"recommendations\": [text]}."),
          new ActionType(
              QuiverActions.REMOVE_ORPHAN_FILES,
              "Delete the files under the warehouse that no table references and no running"
                  + " upload owns (left by killed uploads and commits). Body: empty or"
                  + " {\"min_age_seconds\": N, \"dry_run\": bool} (defaults 0, false). Result:"
                  + " {\"removed_files\", \"removed_bytes\", \"files\": [{\"path\", \"bytes\"}]"
                  + " (at most 1000), \"tables_scanned\", \"skipped_live\","
                  + " \"skipped_young\", \"removed_directories\", \"dry_run\"}."),
          new ActionType(
              QuiverActions.EXPIRE_SNAPSHOTS,
              "Expire a table's snapshots that stopped being current before older_than, keeping"
                  + " the last retain_last, and delete the files only they reached. Body:"
                  + " {\"namespace\": \"ns\", \"table\": \"t\", \"older_than\": ISO-8601 instant,"
                  + " \"retain_last\": N} (defaults: maintenance.expire-after ago,"
                  + " maintenance.retain-last). Result: {\"table\", \"older_than\","
                  + " \"retain_last\", \"snapshots_expired\", \"snapshots_kept\","
                  + " \"files_deleted\", \"bytes_deleted\"}."),
          new ActionType(
              QuiverActions.COMPACT_TABLE,
              "Rewrite a table's small data files (under half of storage.target-file-size) into"
                  + " files of about that size, as one commit that keeps concurrent puts. Body:"
                  + " {\"namespace\": \"ns\", \"table\": \"t\"}. Result: {\"table\","
                  + " \"files_before\", \"files_rewritten\", \"files_added\","
                  + " \"bytes_rewritten\", \"bytes_added\", \"rows\"}. A partitioned table is"
                  + " compacted partition by partition."),
          new ActionType(
              QuiverActions.SET_PARTITIONING,
              "Set a table's partitioning (Iceberg partition spec evolution: files already"
                  + " written keep theirs; puts from now on write one file or more per partition)."
                  + " Body: {\"namespace\": \"ns\", \"table\": \"t\", \"partitioning\":"
                  + " [\"day(ts)\", \"bucket(16, id)\", \"truncate(4, name)\", \"region\"]}"
                  + " (transforms identity, year, month, day, hour, bucket, truncate; [] for"
                  + " unpartitioned). Result: {\"table\", \"spec_id\", \"partitioning\"}."));

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_LISTED_ORPHANS = 1000;
  private static final long MAX_MIN_AGE_SECONDS = 100L * 366 * 24 * 3600; // Instant stays in range

  private final IcebergTableStore store;
  private final SqlEngine sql;
  private final MemoryGovernor memory;
  private final ScanBatchSizer batchSizer;
  private final ServerConfig config;
  private final Supplier<String> location;
  private final ClusterNodes cluster;
  private final TableCompactor compactor;

  ActionHandler(
      IcebergTableStore store,
      SqlEngine sql,
      MemoryGovernor memory,
      ScanBatchSizer batchSizer,
      ServerConfig config,
      Supplier<String> location,
      ClusterNodes cluster) {
    this.cluster = cluster;
    this.store = store;
    this.sql = sql;
    this.memory = memory;
    this.batchSizer = batchSizer;
    this.config = config;
    this.location = location;
    this.compactor =
        new TableCompactor(
            store, sql, memory, config.write().targetFileBytes(), config.scan().batchRows());
  }

  /**
   * Fails with PERMISSION_DENIED unless {@code user} may run {@code action}: drop-table,
   * expire-snapshots and compact-table need write on the table's namespace (expiry deletes history,
   * as a drop deletes the table; compaction commits), list-snapshots read; server-info needs only a
   * login; memory-report, and any action this method does not name (admin work added later, such as
   * orphan removal), need admin on all namespaces.
   */
  void authorize(Action action, String user, AccessControl access) {
    if (!access.enabled()) {
      return;
    }
    switch (action.getType()) {
      case QuiverActions.DROP_TABLE,
          QuiverActions.EXPIRE_SNAPSHOTS,
          QuiverActions.COMPACT_TABLE,
          QuiverActions.SET_PARTITIONING ->
          access.check(user, Right.WRITE, tableOf(action).namespace());
      case QuiverActions.LIST_SNAPSHOTS ->
          access.check(user, Right.READ, tableOf(action).namespace());
      case QuiverActions.SERVER_INFO -> {}
      default -> access.checkServer(user, Right.ADMIN, "action " + truncate(action.getType()));
    }
  }

  void doAction(Action action, StreamListener<Result> listener) {
    JsonNode result =
        switch (action.getType()) {
          case QuiverActions.DROP_TABLE -> dropTable(tableOf(action));
          case QuiverActions.LIST_SNAPSHOTS -> listSnapshots(tableOf(action));
          case QuiverActions.SERVER_INFO -> serverInfo();
          case QuiverActions.MEMORY_REPORT -> memoryReport();
          case QuiverActions.REMOVE_ORPHAN_FILES -> removeOrphanFiles(action);
          case QuiverActions.EXPIRE_SNAPSHOTS -> expireSnapshots(action);
          case QuiverActions.COMPACT_TABLE -> compactTable(tableOf(action));
          case QuiverActions.SET_PARTITIONING -> setPartitioning(action);
          default ->
              throw new QuiverException(
                  QuiverErrorCode.UNSUPPORTED_OPERATION,
                  "Unknown action '%s'; ListActions names the supported ones",
                  truncate(action.getType()));
        };
    try {
      listener.onNext(new Result(JSON.writeValueAsBytes(result)));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot serialise the result of " + action.getType(), e);
    }
    listener.onCompleted();
  }

  private JsonNode dropTable(TableId id) {
    store.drop(id);
    return JSON.createObjectNode().put("dropped", id.toString());
  }

  private JsonNode listSnapshots(TableId id) {
    QuiverTable table = store.load(id);
    ObjectNode result = JSON.createObjectNode().put("table", id.toString());
    result.put("current_snapshot_id", table.currentSnapshotId().orElse(0L));
    ArrayNode snapshots = result.putArray("snapshots");
    for (Snapshot s : table.table().snapshots()) {
      Map<String, String> summary = s.summary();
      ObjectNode node = snapshots.addObject();
      node.put("snapshot_id", s.snapshotId());
      if (s.parentId() == null) {
        node.putNull("parent_id");
      } else {
        node.put("parent_id", s.parentId());
      }
      node.put("timestamp_ms", s.timestampMillis());
      node.put("operation", s.operation());
      node.put("added_records", Long.parseLong(summary.getOrDefault("added-records", "0")));
      node.put("total_records", Long.parseLong(summary.getOrDefault("total-records", "0")));
      node.put("added_files", Long.parseLong(summary.getOrDefault("added-data-files", "0")));
    }
    return result;
  }

  private JsonNode serverInfo() {
    ObjectNode info = JSON.createObjectNode();
    info.put("name", "quiver");
    info.put("version", Versions.of(ActionHandler.class));
    info.put("arrow_version", Versions.of(org.apache.arrow.flight.FlightServer.class));
    info.put("iceberg_version", Versions.iceberg());
    info.put("java_version", Runtime.version().toString());
    info.put("data_dir", config.dataDir().toAbsolutePath().normalize().toString());
    info.put("warehouse", store.warehouseLocation());
    info.put("location", location.get());
    info.put("node_id", cluster.id());
    putNodes(info);
    return info;
  }

  /** The live nodes of the cluster (this one alone on an embedded catalog), by id. */
  private void putNodes(ObjectNode into) {
    ArrayNode nodes = into.putArray("nodes");
    for (ClusterDatabase.Node n : cluster.live()) {
      nodes
          .addObject()
          .put("node_id", n.id())
          .put("location", n.uri())
          .put("started_at_ms", n.startedAt().toEpochMilli())
          .put("heartbeat_at_ms", n.heartbeatAt().toEpochMilli());
    }
  }

  /** A waiting line's figures: waiting now, waits so far, refusals so far. */
  private static void putQueue(ObjectNode node, long queued, long waits, long refused) {
    node.put("queued", queued);
    node.put("waits", waits);
    node.put("refused", refused);
  }

  /** Waits for memory: waiting now, waits, their time, the longest, those that gave up. */
  private static ObjectNode putWaits(ObjectNode node, MemoryWaits.Status waits) {
    return node.put("waiting", waits.waiting())
        .put("waits", waits.waits())
        .put("waited_ms", waits.waitedMillis())
        .put("longest_ms", waits.longestMillis())
        .put("refused", waits.refused());
  }

  private JsonNode memoryReport() {
    MemoryReport report = memory.report();
    ObjectNode result = JSON.createObjectNode();
    ObjectNode limits = result.putObject("limits");
    limits.put("memory.total", config.memory().total());
    limits.put("arrow", report.total());
    limits.put("duckdb.memory-limit", config.memory().duckdbMemoryLimit());
    limits.put("sql.memory-limit", config.sql().memoryLimit());
    limits.put("memory.query-limit", report.queryLimit());
    limits.put("memory.call-reservation", report.callReservation());
    limits.put("memory.admission-queue", config.memory().admissionQueue());
    limits.put("memory.admission-timeout_ms", config.memory().admissionTimeout().toMillis());
    limits.put("memory.transport-reserve", report.transportReserve());
    result.put("allocated", report.allocated());
    result.put("transport_allocated", report.transportAllocated());
    result.put("sql_import_allocated", sql.importedBytes());
    result.put("transport_buffers_allocated", memory.transportBuffersAllocated());
    result.put("nio_direct_allocated", nioDirectBytes());
    result.put("peak", report.peak());
    result.put("pressure", report.pressure());
    putQueue(result.putObject("admission"), report.queued(), report.waits(), report.refused());
    UploadPacing.Status pacing = memory.uploadPacing();
    putWaits(result.putObject("upload_pacing"), pacing.decodes())
        .put("read_aheads_held", pacing.readAheadsHeld());
    putWaits(result.putObject("room_waits"), memory.roomWaits());
    AdmissionQueue.Status writes = memory.admission().status(AdmissionQueue.Resource.WRITER_TURN);
    ObjectNode writerTurns = result.putObject("writer_turns");
    writerTurns.put("slots", DuckDbParquetWriter.writeSlots(config.memory().duckdbMemoryLimit()));
    putQueue(writerTurns, writes.queued(), writes.waits(), writes.refused());
    SqlTurns.Status queries = sql.admission();
    ObjectNode sqlQueries = result.putObject("sql_queries");
    sqlQueries.put("sql.max-concurrent-queries", queries.slots());
    sqlQueries.put("running", queries.running());
    putQueue(sqlQueries, queries.queued(), queries.waits(), queries.refused());
    ArrayNode calls = result.putArray("calls");
    for (MemoryReport.CallUsage call : report.calls()) {
      calls
          .addObject()
          .put("name", call.name())
          .put("allocated", call.allocated())
          .put("peak", call.peak())
          .put("limit", call.limit())
          .put("age_ms", call.age().toMillis())
          .put("draining", call.draining());
    }
    ArrayNode hits = result.putArray("limit_hits");
    for (MemoryReport.LimitHit hit : report.recentHits()) {
      hits.addObject()
          .put("name", hit.name())
          .put("limit_key", hit.limitKey())
          .put("limit", hit.limit())
          .put("at", hit.at().toString());
    }
    ScanBatchSizer.Stats sizing = batchSizer.stats();
    result
        .putObject("scan_batch_rows")
        .put("scan.batch-rows", sizing.maxRows())
        .put("scan.min-batch-rows", sizing.minRows())
        .put("memory.high-pressure", sizing.highPressure())
        .put("last", sizing.lastRows())
        .put("reduced_scans", sizing.reducedScans());
    ArrayNode advice = result.putArray("recommendations");
    report.recommendations().forEach(advice::add);
    // Each node governs its own memory; the list says which others to ask.
    result.put("node_id", cluster.id());
    putNodes(result);
    return result;
  }

  /** Direct ByteBuffers the JVM holds (its "direct" buffer pool: NIO, Netty's cleaner buffers). */
  private static long nioDirectBytes() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct"))
        .mapToLong(BufferPoolMXBean::getMemoryUsed)
        .sum();
  }

  private JsonNode removeOrphanFiles(Action action) {
    JsonNode body = jsonBody(action);
    JsonNode minAge = body.path("min_age_seconds");
    JsonNode dryRun = body.path("dry_run");
    if (!minAge.isMissingNode() && !(minAge.canConvertToLong() && minAge.asLong() >= 0)
        || !dryRun.isMissingNode() && !dryRun.isBoolean()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION,
          "Action %s takes {\"min_age_seconds\": a whole number >= 0, \"dry_run\": true|false}",
          action.getType());
    }
    OrphanReport report;
    try {
      Instant cutoff = Instant.now().minusSeconds(Math.min(minAge.asLong(0), MAX_MIN_AGE_SECONDS));
      report =
          dryRun.asBoolean(false) ? store.findOrphanFiles(cutoff) : store.removeOrphanFiles(cutoff);
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot remove orphan files: %s", e.getMessage());
    }
    ObjectNode result = JSON.createObjectNode();
    result.put("removed_files", report.files().size());
    result.put("removed_bytes", report.bytes());
    ArrayNode files = result.putArray("files");
    report.files().stream()
        .limit(MAX_LISTED_ORPHANS)
        .forEach(f -> files.addObject().put("path", f.path()).put("bytes", f.bytes()));
    result.put("tables_scanned", report.tablesScanned());
    result.put("skipped_live", report.skippedLive());
    result.put("skipped_young", report.skippedYoung());
    result.put("removed_directories", report.removedDirectories());
    result.put("dry_run", report.dryRun());
    return result;
  }

  private JsonNode compactTable(TableId id) {
    CompactionReport report;
    try {
      report = compactor.compact(id, 2);
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot compact table %s: %s", id, e.getMessage());
    }
    return JSON.createObjectNode()
        .put("table", id.toString())
        .put("files_before", report.filesBefore())
        .put("files_rewritten", report.filesRewritten())
        .put("files_added", report.filesAdded())
        .put("bytes_rewritten", report.bytesRewritten())
        .put("bytes_added", report.bytesAdded())
        .put("rows", report.rows());
  }

  private JsonNode setPartitioning(Action action) {
    TableId id = tableOf(action);
    JsonNode terms = jsonBody(action).path("partitioning");
    List<String> partitioning = new java.util.ArrayList<>();
    if (terms.isArray()) {
      for (JsonNode term : terms) {
        if (!term.isTextual()) {
          partitioning = null;
          break;
        }
        partitioning.add(term.asText());
      }
    }
    if (!terms.isArray() || partitioning == null) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION,
          "Action %s needs \"partitioning\": a list of terms such as [\"day(ts)\", \"bucket(16,"
              + " id)\"] ([] for unpartitioned)",
          action.getType());
    }
    org.apache.iceberg.PartitionSpec spec = store.setPartitioning(id, partitioning);
    ObjectNode result = JSON.createObjectNode().put("table", id.toString());
    result.put("spec_id", spec.specId());
    ArrayNode fields = result.putArray("partitioning");
    org.apache.iceberg.Schema schema = spec.schema();
    for (org.apache.iceberg.PartitionField f : spec.fields()) {
      fields.add(f.transform() + "(" + schema.findColumnName(f.sourceId()) + ")");
    }
    return result;
  }

  private JsonNode expireSnapshots(Action action) {
    TableId id = tableOf(action);
    JsonNode body = jsonBody(action);
    Instant olderThan = Instant.now().minus(config.maintenance().expireAfter());
    JsonNode older = body.path("older_than");
    if (!older.isMissingNode()) {
      try {
        olderThan = Instant.parse(older.asText());
      } catch (DateTimeParseException e) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ACTION,
            "Action %s: older_than '%s' is not an ISO-8601 instant such as"
                + " 2026-12-07T12:00:00Z",
            action.getType(),
            truncate(older.asText()));
      }
    }
    int retainLast = config.maintenance().retainLast();
    JsonNode retain = body.path("retain_last");
    if (!retain.isMissingNode()) {
      if (!retain.canConvertToInt() || !retain.isIntegralNumber() || retain.asInt() < 1) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ACTION,
            "Action %s: retain_last %s must be a whole number of at least 1",
            action.getType(),
            truncate(retain.toString()));
      }
      retainLast = retain.asInt();
    }
    ExpiryReport report = store.expireSnapshots(id, olderThan, retainLast);
    return JSON.createObjectNode()
        .put("table", id.toString())
        .put("older_than", report.olderThan().toString())
        .put("retain_last", report.retainLast())
        .put("snapshots_expired", report.snapshotsExpired())
        .put("snapshots_kept", report.snapshotsKept())
        .put("files_deleted", report.filesDeleted())
        .put("bytes_deleted", report.bytesDeleted());
  }

  /**
   * An optional JSON object body; an empty body is an empty object. (Its size was checked against
   * limits.max-action-body before dispatch.)
   */
  private static JsonNode jsonBody(Action action) {
    byte[] body = action.getBody();
    if (body == null || body.length == 0) {
      return JSON.createObjectNode();
    }
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION, "The body of action %s is not JSON", action.getType());
    }
    if (node == null || !node.isObject()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION,
          "The body of action %s must be a JSON object",
          action.getType());
    }
    return node;
  }

  /** The table an action's body names. */
  private static TableId tableOf(Action action) {
    byte[] body = action.getBody();
    if (body == null || body.length == 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION,
          "Action %s needs a JSON body {\"namespace\": ..., \"table\": ...}",
          action.getType());
    }
    JsonNode node = jsonBody(action);
    if (!node.path("namespace").isTextual() || !node.path("table").isTextual()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ACTION,
          "Action %s needs a JSON body {\"namespace\": ..., \"table\": ...}",
          action.getType());
    }
    return TableId.of(node.get("namespace").asText(), node.get("table").asText());
  }

  private static String truncate(String text) {
    return text.length() > 100 ? text.substring(0, 100) + "..." : text;
  }
}
