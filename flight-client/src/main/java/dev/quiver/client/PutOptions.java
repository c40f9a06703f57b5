package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.PutMode;
import dev.quiver.proto.v1.TableRef;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * How a {@link QuiverClient#put} reaches its table: append (the default), overwrite (every row, or
 * the rows matching a filter, replaced by the put's rows) or upsert on key columns (rows with a put
 * row's key replaced, the others inserted). Each is one atomic commit.
 *
 * @param mode the put mode; {@code PUT_MODE_UNSPECIFIED} does not exist, append is the zero value
 * @param filter for an overwrite, the rows to replace; empty means every row. Every row the put
 *     sends must match it (the server refuses the put otherwise)
 * @param keyColumns for an upsert, the columns identifying a row: at least one, distinct
 */
public record PutOptions(PutMode mode, Optional<Filter> filter, List<String> keyColumns) {
  public PutOptions {
    requireNonNull(mode, "mode is null");
    requireNonNull(filter, "filter is null");
    keyColumns = List.copyOf(requireNonNull(keyColumns, "keyColumns is null"));
    if (mode == PutMode.UNRECOGNIZED) {
      throw new QuiverException(QuiverErrorCode.INVALID_ARGUMENT, "Unknown put mode");
    }
    if (filter.isPresent() && mode != PutMode.PUT_MODE_OVERWRITE) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "A put filter applies to overwrite only, not %s", mode);
    }
    if (mode == PutMode.PUT_MODE_UPSERT && keyColumns.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "An upsert needs at least one key column");
    }
    if (mode != PutMode.PUT_MODE_UPSERT && !keyColumns.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "Key columns apply to upsert only, not %s", mode);
    }
    if (new HashSet<>(keyColumns).size() != keyColumns.size() || keyColumns.contains("")) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Key columns must be non-empty and distinct but were %s",
          keyColumns);
    }
  }

  /**
   * Adds the rows (what {@link QuiverClient#put(TableId, org.apache.arrow.vector.ipc.ArrowReader)}
   * does).
   */
  public static PutOptions append() {
    return new PutOptions(PutMode.PUT_MODE_APPEND, Optional.empty(), List.of());
  }

  /** Replaces every row of the table with the put's rows. */
  public static PutOptions overwrite() {
    return new PutOptions(PutMode.PUT_MODE_OVERWRITE, Optional.empty(), List.of());
  }

  /** Replaces the rows {@code filter} matches with the put's rows, all of which must match it. */
  public static PutOptions overwrite(Filter filter) {
    return new PutOptions(
        PutMode.PUT_MODE_OVERWRITE,
        Optional.of(requireNonNull(filter, "filter is null")),
        List.of());
  }

  /** As {@link #overwrite(Filter)} for a predicate; see {@link Filters}. */
  public static PutOptions overwrite(Predicate predicate) {
    return overwrite(Filters.predicate(predicate));
  }

  /** Replaces the rows whose {@code keyColumns} equal a put row's; inserts the other put rows. */
  public static PutOptions upsert(String... keyColumns) {
    return new PutOptions(PutMode.PUT_MODE_UPSERT, Optional.empty(), List.of(keyColumns));
  }

  /** Whether the put needs a PutCommand; an append goes as a path descriptor, as it always has. */
  boolean needsCommand() {
    return mode != PutMode.PUT_MODE_APPEND;
  }

  /** The PutCommand for {@code table} carrying these options. */
  PutCommand toCommand(TableId table) {
    PutCommand.Builder command =
        PutCommand.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace(table.namespace()).setName(table.name()))
            .setMode(mode)
            .addAllKeyColumns(keyColumns);
    filter.ifPresent(command::setFilter);
    return command.build();
  }
}
