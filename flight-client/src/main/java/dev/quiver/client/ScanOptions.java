package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What a {@link QuiverClient#scan} reads and how: columns, row filter, row limit, snapshot, and how
 * many endpoints to read at once.
 *
 * <p>Columns, filter, limit and snapshot are pushed to the server. Parallelism is the client's own:
 * with more than one the reader pulls up to that many endpoints at once and the order of batches
 * across endpoints is not defined (within one endpoint it is kept).
 *
 * @param columns columns to return, in this order; empty means every column
 * @param filter rows to keep; empty means every row
 * @param limit at most this many rows; empty means no limit
 * @param snapshotId the snapshot to read (time travel); empty means the current one
 * @param fromSnapshotId for an incremental read, the snapshot after which (exclusive) appended rows
 *     are returned, up to {@code snapshotId} (inclusive); empty for a whole-snapshot read
 * @param allowNonAppend with {@code fromSnapshotId}: read a range holding overwrite or delete
 *     snapshots, returning only the rows appended in it (the server refuses such a range otherwise)
 * @param parallelism how many endpoints to read at once, at least 1
 */
public record ScanOptions(
    List<String> columns,
    Optional<Filter> filter,
    OptionalLong limit,
    OptionalLong snapshotId,
    OptionalLong fromSnapshotId,
    boolean allowNonAppend,
    int parallelism) {
  public ScanOptions {
    columns = List.copyOf(requireNonNull(columns, "columns is null"));
    requireNonNull(filter, "filter is null");
    requireNonNull(limit, "limit is null");
    requireNonNull(snapshotId, "snapshotId is null");
    requireNonNull(fromSnapshotId, "fromSnapshotId is null");
    if (allowNonAppend && fromSnapshotId.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "allowNonAppend applies to incremental reads only: set fromSnapshotId too");
    }
    Set<String> seen = new HashSet<>();
    for (String column : columns) {
      if (column.isEmpty() || !seen.add(column)) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Scan columns must be non-empty and distinct but were %s",
            columns);
      }
    }
    if (limit.isPresent() && limit.getAsLong() < 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Scan limit must be zero or more but was %d",
          limit.getAsLong());
    }
    if (parallelism < 1) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Scan parallelism must be at least 1 but was %d",
          parallelism);
    }
  }

  /** Every column and row of the current snapshot, one endpoint at a time. */
  public static ScanOptions all() {
    return builder().build();
  }

  /** A builder starting from {@link #all()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether the scan asks for anything beyond the whole current table, so needs a ScanCommand. */
  boolean needsCommand() {
    return !columns.isEmpty()
        || filter.isPresent()
        || limit.isPresent()
        || snapshotId.isPresent()
        || fromSnapshotId.isPresent();
  }

  /** The ScanCommand for {@code table} carrying these options. */
  ScanCommand toCommand(TableId table) {
    ScanCommand.Builder command =
        ScanCommand.newBuilder()
            .setTable(TableRef.newBuilder().setNamespace(table.namespace()).setName(table.name()))
            .addAllColumns(columns);
    filter.ifPresent(command::setFilter);
    limit.ifPresent(command::setLimit);
    snapshotId.ifPresent(command::setSnapshotId);
    fromSnapshotId.ifPresent(command::setFromSnapshotId);
    command.setAllowNonAppend(allowNonAppend);
    return command.build();
  }

  /** Builds {@link ScanOptions}; not thread-safe. */
  public static final class Builder {
    private final List<String> columns = new ArrayList<>();
    private Filter filter;
    private Long limit;
    private Long snapshotId;
    private Long fromSnapshotId;
    private boolean allowNonAppend;
    private int parallelism = 1;

    private Builder() {}

    /** Returns these columns, in this order (replacing any set before). */
    public Builder columns(List<String> names) {
      columns.clear();
      columns.addAll(requireNonNull(names, "names is null"));
      return this;
    }

    /** Returns these columns, in this order (replacing any set before). */
    public Builder columns(String... names) {
      return columns(List.of(names));
    }

    /** Keeps the rows the predicate holds for; see {@link Filters}. */
    public Builder filter(Predicate predicate) {
      return filter(Filters.predicate(predicate));
    }

    /** Keeps the rows the filter holds for (a predicate or Substrait, see {@link Filters}). */
    public Builder filter(Filter value) {
      this.filter = requireNonNull(value, "filter is null");
      return this;
    }

    /** Returns at most {@code rows} rows. */
    public Builder limit(long rows) {
      this.limit = rows;
      return this;
    }

    /** Reads the given snapshot instead of the current one. */
    public Builder snapshotId(long id) {
      this.snapshotId = id;
      return this;
    }

    /**
     * Reads incrementally: only the rows appended after snapshot {@code id} (exclusive) up to the
     * {@link #snapshotId} (inclusive), or the current snapshot. A consumer tails a table by passing
     * the last snapshot it read ({@link PutReceipt#snapshotId()}, list-snapshots).
     */
    public Builder fromSnapshotId(long id) {
      this.fromSnapshotId = id;
      return this;
    }

    /**
     * With {@link #fromSnapshotId}: reads a range that holds overwrite or delete snapshots anyway,
     * returning only the rows appended in it (rows those snapshots removed are not reported).
     */
    public Builder allowNonAppend() {
      this.allowNonAppend = true;
      return this;
    }

    /** Reads up to {@code endpoints} endpoints at once; batch order is then not defined. */
    public Builder parallelism(int endpoints) {
      this.parallelism = endpoints;
      return this;
    }

    /**
     * The options as set; fails with INVALID_ARGUMENT on a bad limit, column list or parallelism.
     */
    public ScanOptions build() {
      return new ScanOptions(
          columns,
          Optional.ofNullable(filter),
          limit == null ? OptionalLong.empty() : OptionalLong.of(limit),
          snapshotId == null ? OptionalLong.empty() : OptionalLong.of(snapshotId),
          fromSnapshotId == null ? OptionalLong.empty() : OptionalLong.of(fromSnapshotId),
          allowNonAppend,
          parallelism);
    }
  }
}
