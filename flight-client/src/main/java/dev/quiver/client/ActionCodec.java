package dev.quiver.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The JSON bodies and results of {@link QuiverActions}. Reads through the tree model, so fields a
 * newer server adds are ignored and a missing required field is a clear INTERNAL error.
 */
final class ActionCodec {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ActionCodec() {}

  /** The {@code {"namespace": ..., "table": ...}} body of the table actions. */
  static byte[] tableBody(TableId table) {
    ObjectNode body = JSON.createObjectNode();
    body.put("namespace", table.namespace());
    body.put("table", table.name());
    return body.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Checks a drop-table result names the dropped table. */
  static void checkDropped(TableId table, byte[] result) {
    JsonNode root = parse(QuiverActions.DROP_TABLE, result);
    String dropped = text(QuiverActions.DROP_TABLE, root, "dropped", result);
    if (!dropped.equals(table.toString())) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          "Asked to drop table %s but the server reported dropping %s",
          table,
          dropped);
    }
  }

  /** The snapshots of a list-snapshots result, oldest first. */
  static List<SnapshotInfo> snapshots(byte[] result) {
    String action = QuiverActions.LIST_SNAPSHOTS;
    JsonNode root = parse(action, result);
    JsonNode current = root.get("current_snapshot_id");
    JsonNode array = root.get("snapshots");
    if (array == null || !array.isArray()) {
      throw malformed(action, "no snapshots array", result);
    }
    List<SnapshotInfo> snapshots = new ArrayList<>(array.size());
    for (JsonNode node : array) {
      long id = number(action, node, "snapshot_id", result);
      JsonNode parent = node.get("parent_id");
      snapshots.add(
          new SnapshotInfo(
              id,
              parent == null || parent.isNull()
                  ? OptionalLong.empty()
                  : OptionalLong.of(parent.asLong()),
              Instant.ofEpochMilli(number(action, node, "timestamp_ms", result)),
              text(action, node, "operation", result),
              number(action, node, "added_records", result),
              number(action, node, "total_records", result),
              number(action, node, "added_files", result),
              current != null && current.isIntegralNumber() && current.asLong() == id));
    }
    return List.copyOf(snapshots);
  }

  /** The server-info result; absent fields become empty strings. */
  static ServerInfo serverInfo(byte[] result) {
    JsonNode root = parse(QuiverActions.SERVER_INFO, result);
    return new ServerInfo(
        root.path("name").asText(""),
        root.path("version").asText(""),
        root.path("arrow_version").asText(""),
        root.path("iceberg_version").asText(""),
        root.path("java_version").asText(""),
        root.path("data_dir").asText(""),
        root.path("location").asText(""));
  }

  private static JsonNode parse(String action, byte[] result) {
    try {
      JsonNode root = JSON.readTree(result);
      if (root == null || !root.isObject()) {
        throw malformed(action, "not a JSON object", result);
      }
      return root;
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          e,
          "Cannot read the %s result '%s'",
          action,
          new String(result, StandardCharsets.UTF_8));
    }
  }

  private static long number(String action, JsonNode node, String field, byte[] result) {
    JsonNode value = node.get(field);
    if (value == null || !value.isIntegralNumber()) {
      throw malformed(action, "no integer " + field, result);
    }
    return value.asLong();
  }

  private static String text(String action, JsonNode node, String field, byte[] result) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw malformed(action, "no string " + field, result);
    }
    return value.asText();
  }

  private static QuiverException malformed(String action, String problem, byte[] result) {
    return new QuiverException(
        QuiverErrorCode.INTERNAL,
        "Cannot read the %s result: %s in '%s'",
        action,
        problem,
        new String(result, StandardCharsets.UTF_8));
  }
}
