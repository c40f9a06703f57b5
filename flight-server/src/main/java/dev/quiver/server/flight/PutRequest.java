package dev.quiver.server.flight;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.PutMode;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flight.FlightDescriptor;

/**
 * A validated put: a table and how its rows reach it; built from a path descriptor (an append) or a
 * PutCommand.
 *
 * @param table the table
 * @param mode append, overwrite or upsert
 * @param filter for an overwrite, the rows it replaces; empty means every row
 * @param keyColumns for an upsert, the columns identifying a row
 * @param addColumns whether nullable columns the put carries and the table lacks are added first
 */
record PutRequest(
    TableId table,
    PutMode mode,
    Optional<Filter> filter,
    List<String> keyColumns,
    boolean addColumns) {
  PutRequest {
    requireNonNull(table, "table is null");
    requireNonNull(mode, "mode is null");
    requireNonNull(filter, "filter is null");
    keyColumns = List.copyOf(keyColumns);
  }

  /**
   * The put {@code descriptor} asks for; INVALID_COMMAND for a command that is not a PutCommand,
   * INVALID_ARGUMENT for options that do not fit its mode.
   */
  static PutRequest of(FlightDescriptor descriptor) {
    if (!descriptor.isCommand()) {
      return new PutRequest(
          TableId.fromPath(descriptor.getPath()),
          PutMode.PUT_MODE_APPEND,
          Optional.empty(),
          List.of(),
          false);
    }
    Any any = DescriptorCommands.parse(descriptor.getCommand());
    if (any == null || !any.is(PutCommand.class)) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND,
          "DoPut takes a path descriptor [namespace, table] or a quiver.v1.PutCommand packed in"
              + " an Any, not %s",
          any == null ? "SQL text" : any.getTypeUrl());
    }
    try {
      return of(any.unpack(PutCommand.class));
    } catch (InvalidProtocolBufferException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND, "The PutCommand in the descriptor is malformed");
    }
  }

  static PutRequest of(PutCommand command) {
    TableId table = TableId.of(command.getTable().getNamespace(), command.getTable().getName());
    PutMode mode = command.getMode();
    if (mode == PutMode.UNRECOGNIZED) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot put into table %s: unknown put mode %d (append 0, overwrite 1, upsert 2)",
          table,
          command.getModeValue());
    }
    if (command.hasFilter() && mode != PutMode.PUT_MODE_OVERWRITE) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot put into table %s: a filter applies to PUT_MODE_OVERWRITE only, not %s",
          table,
          mode);
    }
    if (mode == PutMode.PUT_MODE_UPSERT && command.getKeyColumnsCount() == 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot upsert into table %s without key columns: name at least one in key_columns",
          table);
    }
    if (mode != PutMode.PUT_MODE_UPSERT && command.getKeyColumnsCount() > 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Cannot put into table %s: key_columns apply to PUT_MODE_UPSERT only, not %s",
          table,
          mode);
    }
    return new PutRequest(
        table,
        mode,
        command.hasFilter() ? Optional.of(command.getFilter()) : Optional.empty(),
        command.getKeyColumnsList(),
        command.getAddColumns());
  }

  /**
   * Whether the put reads the table's rows (and so needs the read right too): its receipt counts
   * the rows its keys or filter matched.
   */
  boolean readsRows() {
    return mode == PutMode.PUT_MODE_UPSERT || filter.isPresent();
  }
}
