package dev.quiver.client;

import static dev.quiver.client.Filters.eq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScanOptionsTest {
  private static final TableId TABLE = TableId.of("ns", "t");

  @Test
  void defaultsReadTheWholeCurrentTableSequentially() {
    ScanOptions all = ScanOptions.all();

    assertThat(all.columns()).isEmpty();
    assertThat(all.filter()).isEmpty();
    assertThat(all.limit()).isEmpty();
    assertThat(all.snapshotId()).isEmpty();
    assertThat(all.parallelism()).isEqualTo(1);
    assertThat(all.needsCommand()).isFalse();
    assertThat(ScanOptions.builder().parallelism(8).build().needsCommand()).isFalse();
  }

  @Test
  void everyPushedDownOptionGoesIntoTheCommand() {
    List<String> columns = new ArrayList<>(List.of("b", "a"));
    ScanOptions options =
        ScanOptions.builder()
            .columns(columns)
            .filter(eq("a", 1))
            .limit(10)
            .snapshotId(77)
            .parallelism(4)
            .build();
    columns.clear();

    assertThat(options.columns()).containsExactly("b", "a");
    assertThat(options.parallelism()).isEqualTo(4);
    assertThat(options.needsCommand()).isTrue();
    assertThat(options.toCommand(TABLE))
        .isEqualTo(
            ScanCommand.newBuilder()
                .setTable(TableRef.newBuilder().setNamespace("ns").setName("t"))
                .addColumns("b")
                .addColumns("a")
                .setFilter(Filters.predicate(eq("a", 1)))
                .setLimit(10)
                .setSnapshotId(77)
                .build());
  }

  @Test
  void eachPushedDownOptionAloneNeedsACommand() {
    assertThat(ScanOptions.builder().columns("a").build().needsCommand()).isTrue();
    assertThat(ScanOptions.builder().filter(eq("a", 1)).build().needsCommand()).isTrue();
    assertThat(ScanOptions.builder().limit(0).build().needsCommand()).isTrue();
    assertThat(ScanOptions.builder().snapshotId(1).build().needsCommand()).isTrue();
    assertThat(ScanOptions.builder().limit(0).build().toCommand(TABLE).hasLimit()).isTrue();
    assertThat(ScanOptions.all().toCommand(TABLE).hasSnapshotId()).isFalse();
  }

  @Test
  void invalidOptionsAreRejected() {
    assertThatThrownBy(() -> ScanOptions.builder().parallelism(0).build())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("Scan parallelism must be at least 1 but was 0");
    assertThatThrownBy(() -> ScanOptions.builder().limit(-1).build())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("Scan limit must be zero or more but was -1");
    assertThatThrownBy(() -> ScanOptions.builder().columns("a", "a").build())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_ARGUMENT))
        .hasMessage("Scan columns must be non-empty and distinct but were [a, a]");
  }
}
