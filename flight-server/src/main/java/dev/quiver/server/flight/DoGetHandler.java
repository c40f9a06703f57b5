package dev.quiver.server.flight;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.ScanTicket;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.flight.stream.BatchStreamer;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlTableScan;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.ScanShares;
import dev.quiver.server.table.parquet.TableScan;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/**
 * DoGet: streams one ticket's share of a pinned snapshot through the shared {@link BatchStreamer}.
 *
 * <p>Scans run in the SQL engine's DuckDB ({@link SqlTableScan}), which computes a batch only when
 * the stream asks for one, so a slow client holds about one batch of Arrow memory. A raw Substrait
 * filter is read back as a predicate when it can be (SubstraitPredicates); one that cannot, which
 * DuckDB cannot apply, runs through arrow-dataset ({@link TableScan}) instead, and that scanner
 * decodes ahead of the client without a byte bound (see docs/architecture.md). With scan.engine
 * arrow-dataset every scan runs there: less CPU per batch, whole row groups read ahead.
 */
final class DoGetHandler {
  private final IcebergTableStore store;
  private final MemoryGovernor memory;
  private final SqlEngine sql;
  private final ScanBatchSizer batchSizer;
  private final BatchStreamer streamer;
  private final boolean arrowDataset;

  /** {@code arrowDataset}: every scan through arrow-dataset (scan.engine), not DuckDB. */
  DoGetHandler(
      IcebergTableStore store,
      SqlEngine sql,
      MemoryGovernor memory,
      ScanBatchSizer batchSizer,
      BatchStreamer streamer,
      boolean arrowDataset) {
    this.store = store;
    this.sql = sql;
    this.memory = memory;
    this.batchSizer = batchSizer;
    this.streamer = streamer;
    this.arrowDataset = arrowDataset;
  }

  void getStream(Ticket ticket, ServerStreamListener listener, QuiverCall call) {
    ScanTicket parsed = parse(ticket);
    ScanRequest request = ScanRequest.of(parsed);
    call.trace().table(request.table());
    call.trace().snapshot(parsed.getSnapshotId());
    ScanPlan plan = ScanPlan.plan(store, request);
    List<ScanFile> share =
        ScanShares.share(plan.files(), parsed.getShareIndex(), parsed.getShareCount());
    call.trace().read(fileBytes(share));
    // arrow-dataset does not apply delete files, nor find columns by field id after a schema
    // change: such a share always runs in DuckDB.
    boolean deletes = share.stream().anyMatch(ScanFile::hasDeletes);
    boolean evolved = plan.table().schemaEvolved();
    boolean sqlFilter = plan.filter() == null || plan.filter().sql() != null;
    if ((deletes || evolved) && !sqlFilter) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Cannot scan table %s with this Substrait filter: the table has %s, which only the"
              + " DuckDB scan reads right, and DuckDB cannot run this filter (only arrow-dataset"
              + " can)",
          request.table(),
          deletes ? "row-level deletes" : "a changed schema (columns found by field id)");
    }
    // A DuckDB scan waits for its memory and its SQL turn together; arrow-dataset needs no turn.
    boolean duckdb = sqlFilter && (!arrowDataset || deletes || evolved);
    Set<QuiverCall.Need> needs =
        duckdb
            ? EnumSet.of(QuiverCall.Need.NATIVE_MEMORY, QuiverCall.Need.SQL_TURN)
            : EnumSet.of(QuiverCall.Need.NATIVE_MEMORY);
    // A client that cancels interrupts DuckDB too, which may be searching for the next matching
    // row of a selective filter rather than waiting on the client.
    AtomicReference<SqlTableScan> running = new AtomicReference<>();
    streamer.stream(
        "DoGet " + request.table(),
        call,
        needs,
        listener,
        admitted ->
            open(
                "DoGet " + request.table(),
                share,
                plan,
                request.limit(),
                duckdb,
                admitted,
                running),
        () -> {
          SqlTableScan scan = running.get();
          if (scan != null) {
            scan.cancel();
          }
        },
        () -> {});
  }

  private BatchStreamer.Source open(
      String call,
      List<ScanFile> share,
      ScanPlan plan,
      long limit,
      boolean duckdb,
      QuiverCall.Admitted admitted,
      AtomicReference<SqlTableScan> running)
      throws Exception {
    // Local paths of the share: in place, or read-cache copies pinned until the scan closes.
    LocalFiles files = store.localFiles(plan.table(), share);
    try {
      return scan(call, plan, limit, duckdb, admitted, running, files);
    } catch (Exception e) {
      files.close();
      throw e;
    }
  }

  private BatchStreamer.Source scan(
      String call,
      ScanPlan plan,
      long limit,
      boolean duckdb,
      QuiverCall.Admitted admitted,
      AtomicReference<SqlTableScan> running,
      LocalFiles files)
      throws Exception {
    BufferAllocator allocator = admitted.allocator();
    if (duckdb) {
      SqlTableScan scan =
          SqlTableScan.open(
              sql,
              allocator,
              admitted.turn(),
              plan.table(),
              files,
              plan.schema(),
              plan.filter() == null ? null : plan.filter().sql(),
              limit,
              batchSizer.batchRows());
      running.set(scan);
      return BatchStreamer.source(
          scan::root, scan::dictionaries, scan::next, () -> AutoCloseables.close(scan, files));
    }
    BufferAllocator imports = memory.newImportAllocator(call);
    TableScan scan;
    try {
      scan =
          new TableScan(
              allocator,
              imports,
              files.uris(),
              plan.schema(),
              plan.substraitFilter(),
              limit,
              batchSizer.batchRows());
    } catch (Exception e) {
      imports.close();
      throw e;
    }
    // The imports allocator goes after the scan, whose reader holds what was imported into it;
    // the pins last, once arrow-dataset has closed the files.
    return BatchStreamer.source(
        scan::root,
        scan::dictionaries,
        scan::next,
        () -> AutoCloseables.close(scan, imports, files));
  }

  /** Bytes of the share's data files and of the delete files that apply (each counted once). */
  static long fileBytes(List<ScanFile> share) {
    long bytes = 0;
    Set<String> deletes = new HashSet<>();
    for (ScanFile file : share) {
      bytes += file.data().fileSizeInBytes();
      for (ScanFile.Delete delete : file.deletes()) {
        if (deletes.add(delete.file().location())) {
          bytes += delete.file().fileSizeInBytes();
        }
      }
    }
    return bytes;
  }

  /** The table a Quiver ticket reads; INVALID_TICKET when it is not one. */
  static TableId tableOf(Ticket ticket) {
    return ScanRequest.of(parse(ticket)).table();
  }

  private static ScanTicket parse(Ticket ticket) {
    ScanTicket parsed;
    try {
      parsed = ScanTicket.parseFrom(ticket.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_TICKET, "The ticket is not a Quiver ticket");
    }
    if (!parsed.hasTable()
        || parsed.getShareCount() < 1
        || parsed.getShareIndex() < 0
        || parsed.getShareIndex() >= parsed.getShareCount()
        || parsed.getSnapshotId() < 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_TICKET, "The ticket is not a valid Quiver ticket");
    }
    return parsed;
  }
}
