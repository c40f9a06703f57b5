package dev.quiver.client;

import static dev.quiver.client.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.PutMode;
import dev.quiver.proto.v1.TableRef;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PutOptionsTest {
  private static final TableId TABLE = TableId.of("ns", "t");

  @Test
  void anAppendGoesAsAPathPut() {
    assertThat(PutOptions.append().needsCommand()).isFalse();
  }

  @Test
  void overwriteAndUpsertGoIntoThePutCommand() {
    assertThat(PutOptions.overwrite(eq("region", "eu")).toCommand(TABLE))
        .isEqualTo(
            PutCommand.newBuilder()
                .setTable(TableRef.newBuilder().setNamespace("ns").setName("t"))
                .setMode(PutMode.PUT_MODE_OVERWRITE)
                .setFilter(Filters.predicate(eq("region", "eu")))
                .build());
    PutCommand upsert = PutOptions.upsert("id", "region").toCommand(TABLE);
    assertThat(upsert.getMode()).isEqualTo(PutMode.PUT_MODE_UPSERT);
    assertThat(upsert.getKeyColumnsList()).containsExactly("id", "region");
    assertThat(upsert.hasFilter()).isFalse();
    assertThat(PutOptions.overwrite().needsCommand()).isTrue();
  }

  @Test
  void optionsThatDoNotFitTheModeAreRefused() {
    assertThatThrownBy(PutOptions::upsert)
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("An upsert needs at least one key column");
    assertThatThrownBy(() -> PutOptions.upsert("id", "id"))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("Key columns must be non-empty and distinct but were [id, id]");
    assertThatThrownBy(
            () ->
                new PutOptions(
                    PutMode.PUT_MODE_UPSERT,
                    Optional.of(Filters.predicate(eq("id", 1))),
                    List.of("id")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("A put filter applies to overwrite only, not PUT_MODE_UPSERT");
    assertThatThrownBy(
            () -> new PutOptions(PutMode.PUT_MODE_APPEND, Optional.empty(), List.of("id")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("Key columns apply to upsert only, not PUT_MODE_APPEND");
  }

  @Test
  void aReceiptFromAServerWithoutModesReadsAsAnAppend() {
    PutReceipt old =
        PutReceipt.fromJson(
            "{\"rows\": 3, \"bytes\": 10, \"files\": 1, \"snapshot_id\": 7}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(old.mode()).isEqualTo("append");
    assertThat(old.rowsAdded()).isEqualTo(3);
    PutReceipt upsert = new PutReceipt(5, 10, 2, 8, "upsert", 1, 2, 0);
    assertThat(PutReceipt.fromJson(upsert.toJson())).isEqualTo(upsert);
  }
}
