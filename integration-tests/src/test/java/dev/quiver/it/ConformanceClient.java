package dev.quiver.it;

import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.TableId;
import java.util.List;

/**
 * One way of talking to Quiver (plain Arrow Flight, the Java SDK, ...) behind the operations the
 * conformance suite ({@link BaseClientConformanceIT}) needs.
 *
 * <p>Rows are those of {@link FlightTables}: {@code append(table, first, count)} writes rows {@code
 * [first, first + count)} and scans return rows in id order. An operation the path cannot do throws
 * {@link UnsupportedOperationException}, and its test class says so in {@code hasBehavior}.
 */
interface ConformanceClient extends AutoCloseable {
  PutReceipt append(TableId table, long first, long count);

  /** Appends one row whose {@code name} column is int32 instead of utf8. */
  void appendWithMismatchedSchema(TableId table);

  List<List<Object>> scan(TableId table);

  List<List<Object>> scanAt(TableId table, long snapshotId);

  List<TableId> listTables(String namespace);

  /** The table's snapshot ids, oldest first. */
  List<Long> snapshotIds(TableId table);

  void dropTable(TableId table);

  /** The Quiver error code an exception thrown by this client stands for. */
  QuiverErrorCode errorCode(Throwable error);
}
