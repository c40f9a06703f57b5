package dev.quiver.server.flightsql;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.flight.stream.BatchStreamer;
import dev.quiver.server.flight.stream.PutWriter;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlQuery;
import dev.quiver.server.sql.SqlUpdates;
import dev.quiver.server.sql.StatementKind;
import dev.quiver.server.sql.TableShare;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.ScanFile;
import dev.quiver.server.table.ScanShares;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.arrow.flight.CancelFlightInfoRequest;
import org.apache.arrow.flight.CancelStatus;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightProducer.CallContext;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SchemaResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionClosePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementResult;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementQuery;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementQuery;
import org.apache.arrow.flight.sql.impl.FlightSql.DoPutPreparedStatementResult;
import org.apache.arrow.flight.sql.impl.FlightSql.TicketStatementQuery;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.expressions.Expressions;

/**
 * Flight SQL queries: statements and prepared statements, their FlightInfo and schema, parameter
 * binding, the result streams and CancelFlightInfo.
 *
 * <p>GetFlightInfo binds the statement in DuckDB without running it, so syntax errors and unknown
 * tables come back before any DoGet; each endpoint's ticket names a new run. A query that scans one
 * table row by row ({@link SqlEngine#splittableTable}) gets one endpoint per share of the table's
 * files of the snapshot bound now, as a table scan does, so a client reads them in parallel; any
 * other query is one endpoint. DoGet of a whole query binds again (pinning each table's snapshot as
 * of then), runs the query and streams it through the shared {@link BatchStreamer}: DuckDB's
 * batches land in the call's allocator and go out only as fast as the client reads. A client that
 * cancels its DoGet, or CancelFlightInfo on the FlightInfo, interrupts DuckDB.
 */
public final class SqlQueryHandler {
  private final SqlEngine engine;
  private final PreparedStatements prepared;
  private final SqlRuns runs = new SqlRuns();
  private final BatchStreamer streamer;
  private final ScanBatchSizer batchSizer;
  private final MemoryGovernor memory;
  private final PutWriter puts;
  private final SqlUpdates updates;
  private final long endpointTargetBytes;
  private final int maxEndpoints;
  private final Supplier<List<Location>> nodes;
  private final SqlTransactions transactions;

  /**
   * A split query's endpoints are of about {@code endpointTargetBytes} of files each, at most
   * {@code maxEndpoints}, and go in turn to the live nodes {@code nodes} gives (none: no location,
   * read from the node asked).
   */
  public SqlQueryHandler(
      MemoryGovernor memory,
      SqlEngine engine,
      PreparedStatements prepared,
      BatchStreamer streamer,
      ScanBatchSizer batchSizer,
      PutWriter puts,
      SqlUpdates updates,
      long endpointTargetBytes,
      int maxEndpoints,
      Supplier<List<Location>> nodes,
      SqlTransactions transactions) {
    this.transactions = transactions;
    this.endpointTargetBytes = endpointTargetBytes;
    this.maxEndpoints = maxEndpoints;
    this.nodes = nodes;
    this.puts = puts;
    this.updates = updates;
    this.memory = memory;
    this.engine = engine;
    this.prepared = prepared;
    this.streamer = streamer;
    this.batchSizer = batchSizer;
  }

  public FlightInfo flightInfo(
      CommandStatementQuery command, CallContext context, FlightDescriptor descriptor) {
    String schema = SqlSessions.schema(context);
    Schema results = describeQuery(command.getQuery(), schema).results();
    SqlTicket ticket = SqlTicket.ofStatement(command.getQuery(), schema);
    if (command.hasTransactionId()) {
      checkInTransaction(command.getTransactionId(), context, command.getQuery(), schema);
      return info(results, descriptor, ticket);
    }
    Optional<QuiverTable> table = engine.splittableTable(command.getQuery(), schema);
    if (table.isEmpty()) {
      return info(results, descriptor, ticket);
    }
    return splitInfo(results, descriptor, ticket, table.get());
  }

  /** One endpoint per share of the table's files of its current snapshot. */
  private FlightInfo splitInfo(
      Schema results, FlightDescriptor descriptor, SqlTicket ticket, QuiverTable table) {
    long snapshot = table.currentSnapshotId().orElse(0L);
    List<ScanFile> files =
        snapshot == 0 ? List.of() : table.files(snapshot, Expressions.alwaysTrue());
    int shares = ScanShares.count(files, endpointTargetBytes, maxEndpoints);
    if (shares == 1) {
      return info(results, descriptor, ticket);
    }
    List<List<ScanFile>> split = ScanShares.split(files, shares);
    List<Location> live = nodes.get();
    List<FlightEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < shares; i++) {
      if (i > 0 && split.get(i).isEmpty()) {
        continue;
      }
      Ticket share = ticket.withShare(new TableShare(table.id(), snapshot, i, shares)).toTicket();
      endpoints.add(
          live.isEmpty()
              ? new FlightEndpoint(share)
              : new FlightEndpoint(share, live.get(i % live.size())));
    }
    return FlightInfo.builder(results, descriptor, endpoints).setOrdered(true).build();
  }

  public FlightInfo flightInfo(CommandPreparedStatementQuery command, FlightDescriptor descriptor) {
    PreparedStatements.Prepared statement = prepared.get(command.getPreparedStatementHandle());
    requireQuery(statement);
    return info(
        statement.shape().results(),
        descriptor,
        SqlTicket.ofPrepared(command.getPreparedStatementHandle()));
  }

  public SchemaResult schema(CommandStatementQuery command, CallContext context) {
    return new SchemaResult(
        describeQuery(command.getQuery(), SqlSessions.schema(context)).results());
  }

  public SchemaResult schema(CommandPreparedStatementQuery command) {
    return new SchemaResult(prepared.get(command.getPreparedStatementHandle()).shape().results());
  }

  public void createPrepared(
      ActionCreatePreparedStatementRequest request,
      CallContext context,
      StreamListener<Result> listener) {
    String sql = request.getQuery();
    String schema = SqlSessions.schema(context);
    StatementKind kind = StatementKind.of(sql);
    if (kind == StatementKind.OTHER) {
      throw engine.unsupported(sql);
    }
    if (request.hasTransactionId() && kind == StatementKind.QUERY) {
      checkInTransaction(request.getTransactionId(), context, sql, schema);
    } else if (request.hasTransactionId()) {
      transactions.check(request.getTransactionId(), context.peerIdentity(), t -> {});
    }
    SqlEngine.Shape shape =
        kind == StatementKind.QUERY ? engine.describe(sql, schema) : updates.shape(sql, schema);
    ByteString handle =
        prepared.add(
            new PreparedStatements.Prepared(
                sql,
                schema,
                shape,
                kind == StatementKind.QUERY,
                List.of(),
                request.getTransactionId()));
    ActionCreatePreparedStatementResult result =
        ActionCreatePreparedStatementResult.newBuilder()
            .setPreparedStatementHandle(handle)
            .setDatasetSchema(ByteString.copyFrom(shape.results().serializeAsMessage()))
            .setParameterSchema(ByteString.copyFrom(shape.parameters().serializeAsMessage()))
            .build();
    listener.onNext(new Result(Any.pack(result).toByteArray()));
    listener.onCompleted();
  }

  public void closePrepared(
      ActionClosePreparedStatementRequest request, StreamListener<Result> listener) {
    prepared.close(request.getPreparedStatementHandle());
    listener.onCompleted();
  }

  /** DoPut of parameters for a prepared query: keeps them for its next execution. */
  public Runnable bind(
      CommandPreparedStatementQuery command, FlightStream stream, StreamListener<PutResult> ack) {
    return () -> {
      try {
        ByteString handle = command.getPreparedStatementHandle();
        prepared.get(handle);
        List<List<Object>> rows = new ArrayList<>();
        while (stream.next()) {
          rows.addAll(SqlParameters.rows(stream.getRoot()));
        }
        prepared.bind(handle, rows);
        puts.reply(
            ack,
            DoPutPreparedStatementResult.newBuilder()
                .setPreparedStatementHandle(handle)
                .build()
                .toByteArray());
        ack.onCompleted();
      } catch (Throwable t) {
        ack.onError(FlightErrors.toFlight("DoPut parameters", t));
      }
    };
  }

  public void stream(TicketStatementQuery ticket, QuiverCall call, ServerStreamListener listener) {
    SqlTicket run = SqlTicket.parse(ticket);
    if (run.prepared().isPresent()) {
      PreparedStatements.Prepared statement = prepared.get(run.prepared().get());
      requireQuery(statement);
      checkInTransaction(statement, call);
      stream(
          run.id(),
          statement.sql(),
          statement.schema(),
          statement.queryParameters(),
          Optional.empty(),
          call,
          listener);
    } else {
      stream(run.id(), run.sql(), run.schema(), List.of(), run.share(), call, listener);
    }
  }

  /** A DoGet whose ticket is the prepared statement command itself, as some clients send. */
  public void stream(
      CommandPreparedStatementQuery command, QuiverCall call, ServerStreamListener listener) {
    PreparedStatements.Prepared statement = prepared.get(command.getPreparedStatementHandle());
    requireQuery(statement);
    checkInTransaction(statement, call);
    stream(
        SqlTicket.ofPrepared(command.getPreparedStatementHandle()).id(),
        statement.sql(),
        statement.schema(),
        statement.queryParameters(),
        Optional.empty(),
        call,
        listener);
  }

  private void stream(
      String id,
      String sql,
      String schema,
      List<Object> parameters,
      Optional<TableShare> share,
      QuiverCall call,
      ServerStreamListener listener) {
    SqlRuns.Run run = runs.start(id);
    streamer.stream(
        callName(sql),
        call,
        EnumSet.of(QuiverCall.Need.NATIVE_MEMORY, QuiverCall.Need.SQL_TURN),
        listener,
        admitted -> open(run, sql, schema, parameters, share, admitted),
        run::cancel,
        () -> runs.finish(id));
  }

  private BatchStreamer.Source open(
      SqlRuns.Run run,
      String sql,
      String schema,
      List<Object> parameters,
      Optional<TableShare> share,
      QuiverCall.Admitted admitted) {
    SqlQuery query =
        share.isPresent()
            ? engine.prepareShare(sql, schema, share.get())
            : engine.prepare(sql, schema, parameters);
    BatchStreamer.Source source =
        BatchStreamer.source(query::root, query::dictionaries, query::next, query);
    try {
      run.attach(query);
      query.execute(admitted.allocator(), batchSizer.batchRows(), admitted.turn());
      return source;
    } catch (RuntimeException e) {
      try {
        source.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  public void cancel(CancelFlightInfoRequest request, StreamListener<CancelStatus> listener) {
    boolean any = false;
    for (FlightEndpoint endpoint : request.getInfo().getEndpoints()) {
      var id = SqlTicket.idOf(endpoint.getTicket());
      if (id.isPresent()) {
        any = true;
        runs.cancel(id.get());
      }
    }
    // A run whose DoGet has not started is remembered and fails when it does: cancelled too.
    listener.onNext(any ? CancelStatus.CANCELLED : CancelStatus.NOT_CANCELLABLE);
    listener.onCompleted();
  }

  /**
   * Checks that query {@code sql} may run in transaction {@code id}: the caller's, open, and not
   * reading a table the transaction changed ({@link SqlTransactions#refuseReadsOfChanged}).
   */
  private void checkInTransaction(ByteString id, CallContext context, String sql, String schema) {
    checkInTransaction(id, context.peerIdentity(), sql, schema);
  }

  private void checkInTransaction(ByteString id, String user, String sql, String schema) {
    transactions.check(
        id, user, t -> SqlTransactions.refuseReadsOfChanged(t, engine.reads(sql, schema).tables()));
  }

  /** A prepared query's check at each run, when it was prepared in a transaction. */
  private void checkInTransaction(PreparedStatements.Prepared statement, QuiverCall call) {
    if (!statement.transaction().isEmpty()) {
      checkInTransaction(statement.transaction(), call.user(), statement.sql(), statement.schema());
    }
  }

  private SqlEngine.Shape describeQuery(String sql, String schema) {
    StatementKind kind = StatementKind.of(sql);
    if (kind == StatementKind.OTHER) {
      throw engine.unsupported(sql);
    }
    if (kind != StatementKind.QUERY) {
      throw notAQuery(sql);
    }
    return engine.describe(sql, schema);
  }

  private static void requireQuery(PreparedStatements.Prepared statement) {
    if (!statement.query()) {
      throw notAQuery(statement.sql());
    }
  }

  private static QuiverException notAQuery(String sql) {
    return new QuiverException(
        QuiverErrorCode.INVALID_SQL,
        "'%s' is not a query; run it as an update (JDBC executeUpdate, Flight SQL"
            + " CommandStatementUpdate)",
        abbreviate(sql));
  }

  private static FlightInfo info(Schema schema, FlightDescriptor descriptor, SqlTicket ticket) {
    return FlightInfo.builder(schema, descriptor, List.of(new FlightEndpoint(ticket.toTicket())))
        .setOrdered(true)
        .build();
  }

  static String callName(String sql) {
    return "SQL " + abbreviate(sql);
  }

  static String abbreviate(String sql) {
    String flat = sql.strip().replaceAll("\\s+", " ");
    return flat.length() > 80 ? flat.substring(0, 80) + "..." : flat;
  }
}
