package dev.quiver.server.flight;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.ScanTicket;
import dev.quiver.proto.v1.TableRef;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A validated scan: a table, a projection, an optional filter, an optional limit and an optional
 * snapshot; built from a path descriptor, a ScanCommand or a ScanTicket.
 *
 * @param table the table
 * @param columns the projection; empty means every column
 * @param filter the row filter, if any
 * @param limit the row limit, or -1 for none
 * @param snapshotId the snapshot to read, if pinned
 * @param fromSnapshotId for an incremental read, the snapshot after which appended rows are read
 * @param allowNonAppend whether an incremental read may span overwrite and delete snapshots
 */
record ScanRequest(
    TableId table,
    List<String> columns,
    Optional<Filter> filter,
    long limit,
    Optional<Long> snapshotId,
    Optional<Long> fromSnapshotId,
    boolean allowNonAppend) {
  ScanRequest {
    requireNonNull(table, "table is null");
    columns = List.copyOf(columns);
    requireNonNull(filter, "filter is null");
    requireNonNull(snapshotId, "snapshotId is null");
    requireNonNull(fromSnapshotId, "fromSnapshotId is null");
  }

  ScanRequest(
      TableId table,
      List<String> columns,
      Optional<Filter> filter,
      long limit,
      Optional<Long> snapshotId) {
    this(table, columns, filter, limit, snapshotId, Optional.empty(), false);
  }

  static ScanRequest all(TableId table) {
    return new ScanRequest(table, List.of(), Optional.empty(), -1, Optional.empty());
  }

  static ScanRequest of(ScanCommand command) {
    if (command.hasLimit() && command.getLimit() < 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND,
          "Scan limit must be 0 or more, not %d",
          command.getLimit());
    }
    return new ScanRequest(
        tableId(command.getTable()),
        command.getColumnsList(),
        command.hasFilter() ? Optional.of(command.getFilter()) : Optional.empty(),
        command.hasLimit() ? command.getLimit() : -1,
        command.hasSnapshotId() ? Optional.of(command.getSnapshotId()) : Optional.empty(),
        command.hasFromSnapshotId() ? Optional.of(command.getFromSnapshotId()) : Optional.empty(),
        command.getAllowNonAppend());
  }

  static ScanRequest of(ScanTicket ticket) {
    return new ScanRequest(
        tableId(ticket.getTable()),
        ticket.getColumnsList(),
        ticket.hasFilter() ? Optional.of(ticket.getFilter()) : Optional.empty(),
        ticket.hasLimit() ? ticket.getLimit() : -1,
        Optional.of(ticket.getSnapshotId()),
        ticket.hasFromSnapshotId() ? Optional.of(ticket.getFromSnapshotId()) : Optional.empty(),
        ticket.getAllowNonAppend());
  }

  /** Whether the scan returns whole snapshots, so row and byte totals are exact. */
  boolean isFullScan() {
    return filter.isEmpty() && limit < 0;
  }

  /** The table's schema cut down to the projection; INVALID_ARGUMENT for unknown columns. */
  Schema project(Schema tableSchema) {
    if (columns.isEmpty()) {
      return tableSchema;
    }
    List<Field> fields = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String column : columns) {
      if (!seen.add(column)) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_COMMAND, "Column %s is named twice in the projection", column);
      }
      Field field =
          tableSchema.getFields().stream()
              .filter(f -> f.getName().equals(column))
              .findFirst()
              .orElseThrow(
                  () ->
                      new QuiverException(
                          QuiverErrorCode.INVALID_COMMAND,
                          "Table %s has no column %s",
                          table,
                          column));
      fields.add(field);
    }
    return new Schema(fields, tableSchema.getCustomMetadata());
  }

  ScanTicket toTicket(long snapshot, int shareIndex, int shareCount) {
    ScanTicket.Builder ticket =
        ScanTicket.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace(table.namespace()).setName(table.name()))
            .setSnapshotId(snapshot)
            .addAllColumns(columns)
            .setShareIndex(shareIndex)
            .setShareCount(shareCount);
    filter.ifPresent(ticket::setFilter);
    fromSnapshotId.ifPresent(ticket::setFromSnapshotId);
    ticket.setAllowNonAppend(allowNonAppend);
    if (limit >= 0) {
      ticket.setLimit(limit);
    }
    return ticket.build();
  }

  private static TableId tableId(TableRef ref) {
    return TableId.of(ref.getNamespace(), ref.getName());
  }
}
