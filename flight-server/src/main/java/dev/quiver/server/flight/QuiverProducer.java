package dev.quiver.server.flight;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.server.call.CallMiddleware;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.cluster.ClusterNodes;
import dev.quiver.server.config.LimitSettings;
import dev.quiver.server.config.ScanEngine;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.flight.stream.BatchStreamer;
import dev.quiver.server.flight.stream.PutWriter;
import dev.quiver.server.flightsql.PreparedStatements;
import dev.quiver.server.flightsql.SqlAccess;
import dev.quiver.server.flightsql.SqlMetadataHandler;
import dev.quiver.server.flightsql.SqlQueryHandler;
import dev.quiver.server.flightsql.SqlSessions;
import dev.quiver.server.flightsql.SqlTicket;
import dev.quiver.server.flightsql.SqlTransactions;
import dev.quiver.server.flightsql.SqlUpdateHandler;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.security.AccessControl;
import dev.quiver.server.security.Right;
import dev.quiver.server.sql.PutChanges;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlUpdates;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.telemetry.CallTrace;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.CancelFlightInfoRequest;
import org.apache.arrow.flight.CancelStatus;
import org.apache.arrow.flight.CloseSessionRequest;
import org.apache.arrow.flight.CloseSessionResult;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightConstants;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.GetSessionOptionsRequest;
import org.apache.arrow.flight.GetSessionOptionsResult;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SchemaResult;
import org.apache.arrow.flight.ServerSessionMiddleware;
import org.apache.arrow.flight.SetSessionOptionsRequest;
import org.apache.arrow.flight.SetSessionOptionsResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.FlightSqlProducer.Schemas;
import org.apache.arrow.flight.sql.FlightSqlUtils;
import org.apache.arrow.flight.sql.NoOpFlightSqlProducer;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionBeginTransactionRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionBeginTransactionResult;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionClosePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionEndTransactionRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetCatalogs;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetCrossReference;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetDbSchemas;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetExportedKeys;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetImportedKeys;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetPrimaryKeys;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetSqlInfo;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetTableTypes;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetTables;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetXdbcTypeInfo;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementQuery;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementQuery;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.TicketStatementQuery;

/**
 * Quiver's one FlightProducer: Flight and Flight SQL on one port, each RPC in a handler of its own.
 *
 * <p>Flight requests (path descriptors, Quiver's ScanCommand, Quiver's tickets and actions) go to
 * the table handlers; Flight SQL requests (Flight SQL commands, tickets and actions, and plain SQL
 * text as a command) go through Arrow's FlightSqlProducer dispatch to the SQL handlers. This class
 * only dispatches: every handler error goes through {@link FlightErrors}, the one place that picks
 * the Flight status. Flight SQL features Quiver lacks (savepoints, Substrait plans) answer
 * UNIMPLEMENTED from NoOpFlightSqlProducer.
 */
public final class QuiverProducer extends NoOpFlightSqlProducer {
  private static final String FLIGHT_SQL_TYPE_PREFIX =
      "type.googleapis.com/arrow.flight.protocol.sql.";
  private static final Set<String> FLIGHT_SQL_ACTIONS =
      Stream.concat(
              FlightSqlUtils.FLIGHT_SQL_ACTIONS.stream(),
              Stream.of(
                  FlightConstants.CANCEL_FLIGHT_INFO,
                  FlightConstants.RENEW_FLIGHT_ENDPOINT,
                  FlightConstants.SET_SESSION_OPTIONS,
                  FlightConstants.GET_SESSION_OPTIONS,
                  FlightConstants.CLOSE_SESSION))
          .map(ActionType::getType)
          .collect(Collectors.toUnmodifiableSet());

  /** The key the SQL session middleware ({@link #sessionMiddleware()}) is registered under. */
  public static final FlightServerMiddleware.Key<ServerSessionMiddleware> SESSION_KEY =
      SqlSessions.KEY;

  private final IcebergTableStore store;
  private final CallMiddleware.Factory calls;
  private final AccessControl access;
  private final LimitSettings limits;
  private final FlightInfoHandler flightInfo;
  private final DoGetHandler doGet;
  private final DoPutHandler doPut;
  private final ActionHandler actions;
  private final SqlQueryHandler sqlQueries;
  private final SqlMetadataHandler sqlMetadata;
  private final SqlUpdateHandler sqlUpdates;
  private final SqlAccess sqlAccess;
  private final PreparedStatements prepared;
  private final SqlTransactions transactions;

  /**
   * A producer over {@code store} and {@code sql}; streams run on {@code streamExecutor}, which the
   * caller owns and shuts down after the Flight server. {@code location} names the server in
   * server-info once it is listening. SQL sessions need {@link #sessionMiddleware()} registered
   * under {@link #SESSION_KEY}, and each call's {@link QuiverCall} needs {@code calls} registered
   * under {@link CallMiddleware#KEY}. {@code access} decides what each call's user may do ({@link
   * AccessControl#OPEN} without authentication).
   */
  public QuiverProducer(
      IcebergTableStore store,
      SqlEngine sql,
      MemoryGovernor memory,
      ServerConfig config,
      ExecutorService streamExecutor,
      Supplier<String> location,
      AccessControl access,
      CallMiddleware.Factory calls,
      ClusterNodes cluster) {
    this.store = store;
    this.calls = calls;
    this.access = access;
    this.flightInfo = new FlightInfoHandler(store, config, cluster::planLocations);
    ScanBatchSizer batchSizer =
        new ScanBatchSizer(
            memory,
            config.scan().batchRows(),
            config.scan().minBatchRows(),
            config.memory().highPressure());
    BatchStreamer streamer =
        new BatchStreamer(memory, streamExecutor, config.flight().stallTimeoutMillis());
    this.doGet =
        new DoGetHandler(
            store,
            sql,
            memory,
            batchSizer,
            streamer,
            config.scan().engine() == ScanEngine.ARROW_DATASET);
    PutWriter putWriter = new PutWriter(memory, config.limits());
    this.doPut = new DoPutHandler(store, memory, putWriter, new PutChanges(sql, store));
    this.limits = config.limits();
    this.actions = new ActionHandler(store, sql, memory, batchSizer, config, location, cluster);
    PreparedStatements prepared = new PreparedStatements();
    this.prepared = prepared;
    SqlUpdates updates = new SqlUpdates(sql, store);
    this.transactions = new SqlTransactions(store, config.transactions());
    this.sqlAccess = new SqlAccess(access, sql, updates, store);
    this.sqlQueries =
        new SqlQueryHandler(
            memory,
            sql,
            prepared,
            streamer,
            batchSizer,
            putWriter,
            updates,
            config.flight().endpointTargetBytes(),
            config.flight().maxEndpoints(),
            cluster::planLocations,
            transactions);
    this.sqlMetadata =
        new SqlMetadataHandler(
            store, memory, config.limits().maxColumns(), config.transactions().timeout());
    this.sqlUpdates =
        new SqlUpdateHandler(store, updates, prepared, putWriter, memory, transactions);
  }

  /** The SQL session middleware factory (Flight SQL session options: catalog, schema). */
  public static ServerSessionMiddleware.Factory sessionMiddleware() {
    return SqlSessions.factory();
  }

  // ---- Flight RPCs: dispatch between tables and Flight SQL ----

  @Override
  @SuppressWarnings("try") // the scope is only made current
  public FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
    QuiverCall call = calls.of(context);
    CallTrace trace = call.trace();
    try (Scope ignored = trace.makeCurrent()) {
      return switch (kindOf(descriptor)) {
        case FLIGHT_SQL -> super.getFlightInfo(context, descriptor);
        case SQL_TEXT -> {
          CommandStatementQuery query = sqlText(descriptor);
          checkSql(context, query.getQuery());
          yield sqlQueries.flightInfo(query, context, descriptor);
        }
        case TABLE -> {
          ScanRequest request = scanOf(descriptor);
          trace.table(request.table());
          require(context, Right.READ, request.table());
          yield flightInfo.flightInfo(descriptor, request);
        }
      };
    } catch (RuntimeException e) {
      throw FlightErrors.toFlight("GetFlightInfo", e);
    }
  }

  @Override
  public SchemaResult getSchema(CallContext context, FlightDescriptor descriptor) {
    try {
      return switch (kindOf(descriptor)) {
        case FLIGHT_SQL -> super.getSchema(context, descriptor);
        case SQL_TEXT -> {
          CommandStatementQuery query = sqlText(descriptor);
          checkSql(context, query.getQuery());
          yield sqlQueries.schema(query, context);
        }
        case TABLE -> {
          ScanRequest request = scanOf(descriptor);
          require(context, Right.READ, request.table());
          yield new SchemaResult(request.project(store.load(request.table()).arrowSchema()));
        }
      };
    } catch (RuntimeException e) {
      throw FlightErrors.toFlight("GetSchema", e);
    }
  }

  @Override
  @SuppressWarnings("try") // the scope is only made current (and the thread's CPU charged)
  public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
    QuiverCall call = calls.of(context);
    try (Scope ignored = call.trace().makeCurrent()) {
      checkSize(
          "ticket", ticket.getBytes().length, "limits.max-ticket-size", limits.maxTicketBytes());
      Any any = DescriptorCommands.binaryAny(ticket.getBytes());
      if (any != null && any.getTypeUrl().startsWith(FLIGHT_SQL_TYPE_PREFIX)) {
        super.getStream(context, ticket, listener);
      } else {
        require(context, Right.READ, DoGetHandler.tableOf(ticket));
        doGet.getStream(ticket, listener, call);
      }
    } catch (RuntimeException e) {
      listener.error(FlightErrors.toFlight("DoGet", e));
    }
  }

  @Override
  public Runnable acceptPut(
      CallContext context, FlightStream flightStream, StreamListener<PutResult> ackStream) {
    QuiverCall call = calls.of(context);
    CallTrace trace = call.trace();
    if (!firstMessageArrived(call)) {
      return () ->
          ackStream.onError(
              trace.failed(
                  CallStatus.INVALID_ARGUMENT
                      .withDescription(
                          "DoPut: the stream ended before its first message, the one that"
                              + " carries the FlightDescriptor")
                      .toRuntimeException()));
    }
    try {
      FlightDescriptor descriptor = flightStream.getDescriptor();
      if (kindOf(descriptor) == Kind.FLIGHT_SQL) {
        return trace.wrap(super.acceptPut(context, flightStream, ackStream));
      }
      PutRequest put = PutRequest.of(descriptor);
      require(context, Right.WRITE, put.table());
      if (put.readsRows()) {
        require(context, Right.READ, put.table());
      }
    } catch (RuntimeException e) {
      return () -> ackStream.onError(trace.failed(FlightErrors.toFlight("DoPut", e)));
    }
    return trace.wrap(doPut.acceptPut(flightStream, ackStream, call));
  }

  private static boolean firstMessageArrived(QuiverCall call) {
    try {
      return call.upload().awaitFirstMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void listFlights(
      CallContext context, Criteria criteria, StreamListener<FlightInfo> listener) {
    try {
      flightInfo.listFlights(criteria, readable(context), listener);
    } catch (RuntimeException e) {
      listener.onError(FlightErrors.toFlight("ListFlights", e));
    }
  }

  @Override
  @SuppressWarnings("try") // the scope is only made current
  public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
    try (Scope ignored = calls.of(context).trace().makeCurrent()) {
      byte[] body = action.getBody();
      checkSize(
          "action body",
          body == null ? 0 : body.length,
          "limits.max-action-body",
          limits.maxActionBodyBytes());
      if (FLIGHT_SQL_ACTIONS.contains(action.getType())) {
        super.doAction(context, action, badBodyIsInvalid(action.getType(), listener));
      } else {
        actions.authorize(action, context.peerIdentity(), access);
        actions.doAction(action, listener);
      }
    } catch (RuntimeException e) {
      listener.onError(
          FlightErrors.toFlight("DoAction " + action.getType(), badBody(action.getType(), e)));
    }
  }

  /**
   * Flight SQL's own actions decode their bodies in Arrow's code, which reports a body that is not
   * the protobuf it expects as INTERNAL ("Could not unpack FlightInfo") or throws
   * UnsupportedOperationException; both are the client's error (found by FuzzIT).
   */
  private static StreamListener<Result> badBodyIsInvalid(
      String type, StreamListener<Result> listener) {
    return new StreamListener<>() {
      @Override
      public void onNext(Result val) {
        listener.onNext(val);
      }

      @Override
      public void onError(Throwable t) {
        listener.onError(FlightErrors.toFlight("DoAction " + type, badBody(type, t)));
      }

      @Override
      public void onCompleted() {
        listener.onCompleted();
      }
    };
  }

  private static Throwable badBody(String type, Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof com.google.protobuf.InvalidProtocolBufferException
          || c instanceof UnsupportedOperationException) {
        return new QuiverException(
            QuiverErrorCode.INVALID_ACTION,
            t,
            "The body of action %s is not a valid Flight SQL request: %s",
            type,
            c.getMessage());
      }
    }
    return t;
  }

  @Override
  public void listActions(CallContext context, StreamListener<ActionType> listener) {
    ActionHandler.ACTIONS.forEach(listener::onNext);
    FlightSqlUtils.FLIGHT_SQL_ACTIONS.forEach(listener::onNext);
    listener.onCompleted();
  }

  // ---- Flight SQL: queries and prepared statements ----

  @Override
  public FlightInfo getFlightInfoStatement(
      CommandStatementQuery command, CallContext context, FlightDescriptor descriptor) {
    checkSql(context, command.getQuery());
    return sqlQueries.flightInfo(command, context, descriptor);
  }

  @Override
  public FlightInfo getFlightInfoPreparedStatement(
      CommandPreparedStatementQuery command, CallContext context, FlightDescriptor descriptor) {
    checkPrepared(context, command.getPreparedStatementHandle());
    return sqlQueries.flightInfo(command, descriptor);
  }

  @Override
  public SchemaResult getSchemaStatement(
      CommandStatementQuery command, CallContext context, FlightDescriptor descriptor) {
    checkSql(context, command.getQuery());
    return sqlQueries.schema(command, context);
  }

  @Override
  public SchemaResult getSchemaPreparedStatement(
      CommandPreparedStatementQuery command, CallContext context, FlightDescriptor descriptor) {
    checkPrepared(context, command.getPreparedStatementHandle());
    return sqlQueries.schema(command);
  }

  @Override
  public void getStreamStatement(
      TicketStatementQuery ticket, CallContext context, ServerStreamListener listener) {
    try {
      SqlTicket run = SqlTicket.parse(ticket);
      if (run.prepared().isPresent()) {
        checkPrepared(context, run.prepared().get());
      } else {
        sqlAccess.check(context.peerIdentity(), run.sql(), run.schema());
      }
    } catch (RuntimeException e) {
      listener.error(FlightErrors.toFlight("DoGet", e));
      return;
    }
    sqlQueries.stream(ticket, calls.of(context), listener);
  }

  @Override
  public void getStreamPreparedStatement(
      CommandPreparedStatementQuery command, CallContext context, ServerStreamListener listener) {
    try {
      checkPrepared(context, command.getPreparedStatementHandle());
    } catch (RuntimeException e) {
      listener.error(FlightErrors.toFlight("DoGet", e));
      return;
    }
    sqlQueries.stream(command, calls.of(context), listener);
  }

  @Override
  public void createPreparedStatement(
      ActionCreatePreparedStatementRequest request,
      CallContext context,
      StreamListener<Result> listener) {
    checkSql(context, request.getQuery());
    sqlQueries.createPrepared(request, context, listener);
  }

  @Override
  public void closePreparedStatement(
      ActionClosePreparedStatementRequest request,
      CallContext context,
      StreamListener<Result> listener) {
    sqlQueries.closePrepared(request, listener);
  }

  @Override
  public Runnable acceptPutPreparedStatementQuery(
      CommandPreparedStatementQuery command,
      CallContext context,
      FlightStream flightStream,
      StreamListener<PutResult> ackStream) {
    checkPrepared(context, command.getPreparedStatementHandle());
    return sqlQueries.bind(command, flightStream, ackStream);
  }

  // ---- Flight SQL: updates and bulk ingest ----

  @Override
  public Runnable acceptPutStatement(
      CommandStatementUpdate command,
      CallContext context,
      FlightStream flightStream,
      StreamListener<PutResult> ackStream) {
    checkSql(context, command.getQuery());
    return sqlUpdates.statement(command, calls.of(context), ackStream);
  }

  @Override
  public Runnable acceptPutPreparedStatementUpdate(
      CommandPreparedStatementUpdate command,
      CallContext context,
      FlightStream flightStream,
      StreamListener<PutResult> ackStream) {
    checkPrepared(context, command.getPreparedStatementHandle());
    return sqlUpdates.prepared(command, calls.of(context), flightStream, ackStream);
  }

  @Override
  public Runnable acceptPutStatementBulkIngest(
      CommandStatementIngest command,
      CallContext context,
      FlightStream flightStream,
      StreamListener<PutResult> ackStream) {
    sqlAccess.checkWrite(
        context.peerIdentity(), SqlUpdateHandler.ingestTable(command, SqlSessions.schema(context)));
    return sqlUpdates.ingest(command, calls.of(context), flightStream, ackStream);
  }

  @Override
  public void cancelFlightInfo(
      CancelFlightInfoRequest request, CallContext context, StreamListener<CancelStatus> listener) {
    sqlQueries.cancel(request, listener);
  }

  // ---- Flight SQL: transactions ----

  @Override
  public void beginTransaction(
      ActionBeginTransactionRequest request,
      CallContext context,
      StreamListener<ActionBeginTransactionResult> listener) {
    try {
      ByteString id = transactions.begin(context.peerIdentity());
      listener.onNext(ActionBeginTransactionResult.newBuilder().setTransactionId(id).build());
      listener.onCompleted();
    } catch (RuntimeException e) {
      listener.onError(FlightErrors.toFlight("BeginTransaction", e));
    }
  }

  @Override
  public void endTransaction(
      ActionEndTransactionRequest request, CallContext context, StreamListener<Result> listener) {
    try {
      switch (request.getAction()) {
        case END_TRANSACTION_COMMIT ->
            transactions.commit(request.getTransactionId(), context.peerIdentity());
        case END_TRANSACTION_ROLLBACK ->
            transactions.rollback(request.getTransactionId(), context.peerIdentity());
        default ->
            throw new QuiverException(
                QuiverErrorCode.INVALID_ARGUMENT,
                "EndTransaction of %s needs an action, COMMIT or ROLLBACK, not %s",
                request.getTransactionId().toStringUtf8(),
                request.getAction());
      }
      listener.onCompleted();
    } catch (IOException | RuntimeException e) {
      listener.onError(FlightErrors.toFlight("EndTransaction", e));
    }
  }

  /** Rolls back the open transactions (their staged files go). */
  @Override
  public void close() throws Exception {
    transactions.close();
  }

  // ---- Flight SQL: sessions ----

  @Override
  public void setSessionOptions(
      SetSessionOptionsRequest request,
      CallContext context,
      StreamListener<SetSessionOptionsResult> listener) {
    SqlSessions.set(request, context, listener);
  }

  @Override
  public void getSessionOptions(
      GetSessionOptionsRequest request,
      CallContext context,
      StreamListener<GetSessionOptionsResult> listener) {
    SqlSessions.get(context, listener);
  }

  @Override
  public void closeSession(
      CloseSessionRequest request,
      CallContext context,
      StreamListener<CloseSessionResult> listener) {
    SqlSessions.close(context, listener);
  }

  // ---- Flight SQL: metadata ----

  @Override
  public FlightInfo getFlightInfoSqlInfo(
      CommandGetSqlInfo command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_SQL_INFO_SCHEMA, descriptor);
  }

  @Override
  public void getStreamSqlInfo(
      CommandGetSqlInfo command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.sqlInfo(command, listener);
  }

  @Override
  public FlightInfo getFlightInfoTypeInfo(
      CommandGetXdbcTypeInfo command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_TYPE_INFO_SCHEMA, descriptor);
  }

  @Override
  public void getStreamTypeInfo(
      CommandGetXdbcTypeInfo command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.typeInfo(command, listener);
  }

  @Override
  public FlightInfo getFlightInfoCatalogs(
      CommandGetCatalogs command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_CATALOGS_SCHEMA, descriptor);
  }

  @Override
  public void getStreamCatalogs(CallContext context, ServerStreamListener listener) {
    sqlMetadata.catalogs(listener);
  }

  @Override
  public FlightInfo getFlightInfoSchemas(
      CommandGetDbSchemas command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_SCHEMAS_SCHEMA, descriptor);
  }

  @Override
  public void getStreamSchemas(
      CommandGetDbSchemas command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.schemas(command, readable(context), listener);
  }

  @Override
  public FlightInfo getFlightInfoTables(
      CommandGetTables command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(
        command,
        command.getIncludeSchema()
            ? Schemas.GET_TABLES_SCHEMA
            : Schemas.GET_TABLES_SCHEMA_NO_SCHEMA,
        descriptor);
  }

  @Override
  public void getStreamTables(
      CommandGetTables command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.tables(command, readable(context), listener);
  }

  @Override
  public FlightInfo getFlightInfoTableTypes(
      CommandGetTableTypes command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_TABLE_TYPES_SCHEMA, descriptor);
  }

  @Override
  public void getStreamTableTypes(CallContext context, ServerStreamListener listener) {
    sqlMetadata.tableTypes(listener);
  }

  @Override
  public FlightInfo getFlightInfoPrimaryKeys(
      CommandGetPrimaryKeys command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_PRIMARY_KEYS_SCHEMA, descriptor);
  }

  @Override
  public void getStreamPrimaryKeys(
      CommandGetPrimaryKeys command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.noKeys("GetPrimaryKeys", Schemas.GET_PRIMARY_KEYS_SCHEMA, listener);
  }

  @Override
  public FlightInfo getFlightInfoExportedKeys(
      CommandGetExportedKeys command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_EXPORTED_KEYS_SCHEMA, descriptor);
  }

  @Override
  public void getStreamExportedKeys(
      CommandGetExportedKeys command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.noKeys("GetExportedKeys", Schemas.GET_EXPORTED_KEYS_SCHEMA, listener);
  }

  @Override
  public FlightInfo getFlightInfoImportedKeys(
      CommandGetImportedKeys command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_IMPORTED_KEYS_SCHEMA, descriptor);
  }

  @Override
  public void getStreamImportedKeys(
      CommandGetImportedKeys command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.noKeys("GetImportedKeys", Schemas.GET_IMPORTED_KEYS_SCHEMA, listener);
  }

  @Override
  public FlightInfo getFlightInfoCrossReference(
      CommandGetCrossReference command, CallContext context, FlightDescriptor descriptor) {
    return SqlMetadataHandler.info(command, Schemas.GET_CROSS_REFERENCE_SCHEMA, descriptor);
  }

  @Override
  public void getStreamCrossReference(
      CommandGetCrossReference command, CallContext context, ServerStreamListener listener) {
    sqlMetadata.noKeys("GetCrossReference", Schemas.GET_CROSS_REFERENCE_SCHEMA, listener);
  }

  private static void checkSize(String what, int size, String key, int limit) {
    if (size > limit) {
      throw new QuiverException(
          QuiverErrorCode.LIMIT_EXCEEDED,
          "The %s is %d bytes, more than %s (%d)",
          what,
          size,
          key,
          limit);
    }
  }

  // ---- access checks (no-ops without authentication) ----

  private void require(CallContext context, Right right, TableId table) {
    access.check(context.peerIdentity(), right, table.namespace());
  }

  /** Namespaces the call's user may read: what listings show. */
  private Predicate<String> readable(CallContext context) {
    String user = context.peerIdentity();
    return namespace -> access.may(user, Right.READ, namespace);
  }

  private void checkSql(CallContext context, String sql) {
    sqlAccess.check(context.peerIdentity(), sql, SqlSessions.schema(context));
  }

  /** Checks a prepared statement each time it runs: its handle may reach another user. */
  private void checkPrepared(CallContext context, ByteString handle) {
    PreparedStatements.Prepared statement = prepared.get(handle);
    sqlAccess.check(context.peerIdentity(), statement.sql(), statement.schema());
  }

  // ---- descriptor parsing ----

  private enum Kind {
    TABLE,
    FLIGHT_SQL,
    SQL_TEXT
  }

  private static Kind kindOf(FlightDescriptor descriptor) {
    if (!descriptor.isCommand()) {
      return Kind.TABLE;
    }
    Any any = DescriptorCommands.parse(descriptor.getCommand());
    if (any == null) {
      return Kind.SQL_TEXT;
    }
    return any.getTypeUrl().startsWith(FLIGHT_SQL_TYPE_PREFIX) ? Kind.FLIGHT_SQL : Kind.TABLE;
  }

  /** Plain bytes in a command are SQL text, as pyarrow's for_command(b"SELECT ...") sends. */
  private static CommandStatementQuery sqlText(FlightDescriptor descriptor) {
    return CommandStatementQuery.newBuilder()
        .setQuery(new String(descriptor.getCommand(), StandardCharsets.UTF_8))
        .build();
  }

  private static ScanRequest scanOf(FlightDescriptor descriptor) {
    if (!descriptor.isCommand()) {
      return ScanRequest.all(TableId.fromPath(descriptor.getPath()));
    }
    Any any = DescriptorCommands.parse(descriptor.getCommand());
    if (any != null && any.is(ScanCommand.class)) {
      try {
        return ScanRequest.of(any.unpack(ScanCommand.class));
      } catch (InvalidProtocolBufferException e) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_COMMAND, "The ScanCommand in the descriptor is malformed");
      }
    }
    throw new QuiverException(
        QuiverErrorCode.INVALID_COMMAND,
        "Unknown command type %s",
        any == null ? "(none)" : any.getTypeUrl());
  }
}
