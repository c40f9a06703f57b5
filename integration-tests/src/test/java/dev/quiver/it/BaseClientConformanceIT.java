package dev.quiver.it;

import static dev.quiver.it.FlightTables.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.util.UUID;
import org.apache.arrow.memory.BufferAllocator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The behaviour every client path must show against a real server, Trino BaseConnectorTest style: a
 * subclass connects one path and declares what it supports in {@link #hasBehavior}. A test of a
 * behaviour the path lacks checks that the path refuses it clearly, so nothing is silently skipped.
 */
@ExtendWith({QuiverServerExtension.class, ArrowAllocatorExtension.class})
abstract class BaseClientConformanceIT {
  /** What a client path can do beyond append and scan, which every path must. */
  enum Behavior {
    TIME_TRAVEL,
    LIST_TABLES,
    LIST_SNAPSHOTS,
    DROP_TABLE,
    /** Errors carry Quiver's exact code, not only the Flight status. */
    EXACT_ERROR_CODES,
  }

  private final QuiverServerProcess server;
  private final String namespace = "conformance_" + UUID.randomUUID().toString().substring(0, 8);

  BaseClientConformanceIT(QuiverServerProcess server) {
    this.server = server;
  }

  protected abstract boolean hasBehavior(Behavior behavior);

  /** A new client of the path under test; the test closes it before the allocator is checked. */
  protected abstract ConformanceClient connect(
      QuiverServerProcess server, BufferAllocator allocator);

  @Test
  void appendThenScanReturnsEveryRow(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);

      PutReceipt receipt = client.append(table, 0, 10_000);

      assertThat(receipt.rows()).isEqualTo(10_000);
      assertThat(receipt.files()).isPositive();
      assertThat(receipt.bytes()).isPositive();
      assertThat(client.scan(table)).isEqualTo(rows(0, 10_000));
    }
  }

  @Test
  void appendsAddToTheTable(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);

      client.append(table, 0, 100);
      client.append(table, 100, 50);

      assertThat(client.scan(table)).isEqualTo(rows(0, 150));
    }
  }

  @Test
  void eachAppendIsOneSnapshot(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);
      long first = client.append(table, 0, 10).snapshotId();
      long second = client.append(table, 10, 10).snapshotId();

      if (!hasBehavior(Behavior.LIST_SNAPSHOTS)) {
        assertUnsupported(() -> client.snapshotIds(table));
        return;
      }
      assertThat(client.snapshotIds(table)).containsExactly(first, second);
    }
  }

  @Test
  void timeTravelReadsEachSnapshot(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);
      long first = client.append(table, 0, 10).snapshotId();
      long second = client.append(table, 10, 20).snapshotId();
      client.append(table, 30, 5);

      if (!hasBehavior(Behavior.TIME_TRAVEL)) {
        assertUnsupported(() -> client.scanAt(table, first));
        return;
      }
      assertThat(client.scanAt(table, first)).isEqualTo(rows(0, 10));
      assertThat(client.scanAt(table, second)).isEqualTo(rows(0, 30));
      assertThat(client.scan(table)).isEqualTo(rows(0, 35));
    }
  }

  @Test
  void timeTravelToAnUnknownSnapshotIsSnapshotNotFound(BufferAllocator allocator, TestInfo test)
      throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);
      client.append(table, 0, 1);

      if (!hasBehavior(Behavior.TIME_TRAVEL)) {
        assertUnsupported(() -> client.scanAt(table, 42));
        return;
      }
      assertError(
          client, () -> client.scanAt(table, 424242), QuiverErrorCode.SNAPSHOT_NOT_FOUND, "424242");
    }
  }

  @Test
  void listTablesShowsTheNamespaceOnly(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      String own = namespace + "_list";
      String other = namespace + "_other";
      client.append(TableId.of(own, "a"), 0, 1);
      client.append(TableId.of(own, "b"), 0, 1);
      client.append(TableId.of(other, "c"), 0, 1);

      if (!hasBehavior(Behavior.LIST_TABLES)) {
        assertUnsupported(() -> client.listTables(own));
        return;
      }
      assertThat(client.listTables(own))
          .containsExactlyInAnyOrder(TableId.of(own, "a"), TableId.of(own, "b"));
    }
  }

  @Test
  void dropTableThenScanIsTableNotFound(BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);
      client.append(table, 0, 5);

      if (!hasBehavior(Behavior.DROP_TABLE)) {
        assertUnsupported(() -> client.dropTable(table));
        return;
      }
      client.dropTable(table);

      assertError(
          client, () -> client.scan(table), QuiverErrorCode.TABLE_NOT_FOUND, table.toString());
      assertError(
          client, () -> client.dropTable(table), QuiverErrorCode.TABLE_NOT_FOUND, table.toString());
    }
  }

  @Test
  void scanOfAnUnknownTableIsTableNotFound(BufferAllocator allocator, TestInfo test)
      throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);

      assertError(
          client, () -> client.scan(table), QuiverErrorCode.TABLE_NOT_FOUND, table.toString());
    }
  }

  @Test
  void appendWithAMismatchedSchemaIsRejectedAndCommitsNothing(
      BufferAllocator allocator, TestInfo test) throws Exception {
    try (ConformanceClient client = connect(server, allocator)) {
      TableId table = table(test);
      client.append(table, 0, 10);

      assertError(
          client,
          () -> client.appendWithMismatchedSchema(table),
          QuiverErrorCode.SCHEMA_MISMATCH,
          table.toString());

      assertThat(client.scan(table)).isEqualTo(rows(0, 10));
      client.append(table, 10, 1);
      assertThat(client.scan(table)).isEqualTo(rows(0, 11));
    }
  }

  /** A table of this test alone. */
  protected TableId table(TestInfo test) {
    String method = test.getTestMethod().orElseThrow().getName();
    return TableId.of(namespace, method + "_" + UUID.randomUUID().toString().substring(0, 8));
  }

  private void assertError(
      ConformanceClient client,
      ThrowingCallable call,
      QuiverErrorCode expected,
      String messagePart) {
    QuiverErrorCode wanted =
        hasBehavior(Behavior.EXACT_ERROR_CODES)
            ? expected
            : QuiverErrorCode.fromFlightStatus(expected.flightStatus());
    assertThatThrownBy(call)
        .satisfies(error -> assertThat(client.errorCode(error)).isEqualTo(wanted))
        .hasMessageContaining(messagePart);
  }

  private static void assertUnsupported(ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("not supported");
  }
}
