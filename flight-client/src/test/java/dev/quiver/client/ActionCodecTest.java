package dev.quiver.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ActionCodecTest {
  private static final TableId TABLE = TableId.of("ns", "t");

  @Test
  void tableBodyNamesNamespaceAndTable() {
    assertThat(new String(ActionCodec.tableBody(TABLE), UTF_8))
        .isEqualTo("{\"namespace\":\"ns\",\"table\":\"t\"}");
  }

  @Test
  void snapshotsAreReadOldestFirstWithTheCurrentOneMarked() {
    String json =
        """
        {"table": "ns.t", "current_snapshot_id": 2, "snapshots": [
          {"snapshot_id": 1, "parent_id": null, "timestamp_ms": 1000, "operation": "append",
           "added_records": 5, "total_records": 5, "added_files": 1},
          {"snapshot_id": 2, "parent_id": 1, "timestamp_ms": 2000, "operation": "overwrite",
           "added_records": 3, "total_records": 8, "added_files": 2, "summary": {}}]}
        """;

    List<SnapshotInfo> snapshots = ActionCodec.snapshots(json.getBytes(UTF_8));

    assertThat(snapshots)
        .containsExactly(
            new SnapshotInfo(
                1, OptionalLong.empty(), Instant.ofEpochMilli(1000), "append", 5, 5, 1, false),
            new SnapshotInfo(
                2, OptionalLong.of(1), Instant.ofEpochMilli(2000), "overwrite", 3, 8, 2, true));
  }

  @Test
  void malformedSnapshotsFailWithInternal() {
    assertThatThrownBy(() -> ActionCodec.snapshots("{\"snapshots\": [{}]}".getBytes(UTF_8)))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INTERNAL))
        .hasMessage(
            "Cannot read the list-snapshots result: no integer snapshot_id in '{\"snapshots\":"
                + " [{}]}'");
    assertThatThrownBy(() -> ActionCodec.snapshots("not json".getBytes(UTF_8)))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INTERNAL))
        .hasMessage("Cannot read the list-snapshots result 'not json'");
    assertThatThrownBy(() -> ActionCodec.snapshots("[]".getBytes(UTF_8)))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INTERNAL))
        .hasMessage("Cannot read the list-snapshots result: not a JSON object in '[]'");
  }

  @Test
  void dropResultMustNameTheTable() {
    ActionCodec.checkDropped(TABLE, "{\"dropped\": \"ns.t\"}".getBytes(UTF_8));

    assertThatThrownBy(
            () -> ActionCodec.checkDropped(TABLE, "{\"dropped\": \"ns.u\"}".getBytes(UTF_8)))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INTERNAL))
        .hasMessage("Asked to drop table ns.t but the server reported dropping ns.u");
  }

  @Test
  void serverInfoLeavesMissingFieldsEmpty() {
    ServerInfo info =
        ActionCodec.serverInfo("{\"name\": \"quiver\", \"version\": \"1.0\"}".getBytes(UTF_8));

    assertThat(info).isEqualTo(new ServerInfo("quiver", "1.0", "", "", "", "", ""));
  }
}
