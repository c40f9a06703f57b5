package dev.quiver.server.flight;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.server.config.ServerConfig;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.memory.ScanBatchSizer;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.telemetry.CallTrace;
import io.opentelemetry.context.Scope;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SchemaResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.NoOpFlightSqlProducer;

/**
 * Quiver's one FlightProducer: maps Flight RPCs onto tables, each RPC in a handler of its own.
 *
 * <p>It is a Flight SQL producer so that one port will serve both Flight and Flight SQL; Flight SQL
 * commands are answered UNIMPLEMENTED until the SQL engine lands. Every handler error goes through
 * {@link FlightErrors}, the one place that picks the Flight status.
 */
public final class QuiverProducer extends NoOpFlightSqlProducer {
  private static final String FLIGHT_SQL_TYPE_PREFIX =
      "type.googleapis.com/arrow.flight.protocol.sql.";
  private static final String SCAN_COMMAND_TYPE = "type.googleapis.com/quiver.v1.ScanCommand";

  private final IcebergTableStore store;
  private final FlightInfoHandler flightInfo;
  private final DoGetHandler doGet;
  private final DoPutHandler doPut;
  private final ActionHandler actions;

  /**
   * A producer over {@code store}; DoGet streams run on {@code streamExecutor}, which the caller
   * owns and shuts down after the Flight server. {@code location} names the server in server-info
   * once it is listening.
   */
  public QuiverProducer(
      IcebergTableStore store,
      MemoryGovernor memory,
      ServerConfig config,
      ExecutorService streamExecutor,
      Supplier<String> location) {
    this.store = store;
    this.flightInfo = new FlightInfoHandler(store, config);
    ScanBatchSizer batchSizer =
        new ScanBatchSizer(
            memory, config.scanBatchRows(), config.scanMinBatchRows(), config.highPressure());
    this.doGet =
        new DoGetHandler(store, memory, batchSizer, streamExecutor, config.stallTimeoutMillis());
    this.doPut = new DoPutHandler(store, memory);
    this.actions = new ActionHandler(store, memory, batchSizer, config, location);
  }

  @Override
  @SuppressWarnings("try") // the scope is only made current
  public FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
    CallTrace trace = CallTrace.of(context);
    try (Scope ignored = trace.makeCurrent()) {
      ScanRequest request = scanOf(descriptor);
      trace.table(request.table());
      return flightInfo.flightInfo(descriptor, request);
    } catch (RuntimeException e) {
      throw FlightErrors.toFlight("GetFlightInfo", e);
    }
  }

  @Override
  public SchemaResult getSchema(CallContext context, FlightDescriptor descriptor) {
    try {
      ScanRequest request = scanOf(descriptor);
      return new SchemaResult(request.project(store.load(request.table()).arrowSchema()));
    } catch (RuntimeException e) {
      throw FlightErrors.toFlight("GetSchema", e);
    }
  }

  @Override
  public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
    try {
      doGet.getStream(ticket, listener, CallTrace.of(context));
    } catch (RuntimeException e) {
      listener.error(FlightErrors.toFlight("DoGet", e));
    }
  }

  @Override
  public Runnable acceptPut(
      CallContext context, FlightStream flightStream, StreamListener<PutResult> ackStream) {
    CallTrace trace = CallTrace.of(context);
    return trace.wrap(doPut.acceptPut(flightStream, ackStream, trace));
  }

  @Override
  public void listFlights(
      CallContext context, Criteria criteria, StreamListener<FlightInfo> listener) {
    try {
      flightInfo.listFlights(criteria, listener);
    } catch (RuntimeException e) {
      listener.onError(FlightErrors.toFlight("ListFlights", e));
    }
  }

  @Override
  @SuppressWarnings("try") // the scope is only made current
  public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
    try (Scope ignored = CallTrace.of(context).makeCurrent()) {
      actions.doAction(action, listener);
    } catch (RuntimeException e) {
      listener.onError(FlightErrors.toFlight("DoAction " + action.getType(), e));
    }
  }

  @Override
  public void listActions(CallContext context, StreamListener<ActionType> listener) {
    ActionHandler.ACTIONS.forEach(listener::onNext);
    listener.onCompleted();
  }

  private static ScanRequest scanOf(FlightDescriptor descriptor) {
    if (!descriptor.isCommand()) {
      return ScanRequest.all(TableId.fromPath(descriptor.getPath()));
    }
    byte[] command = descriptor.getCommand();
    Any any = parseAny(command);
    if (any != null && any.getTypeUrl().equals(SCAN_COMMAND_TYPE)) {
      try {
        return ScanRequest.of(any.unpack(ScanCommand.class));
      } catch (InvalidProtocolBufferException e) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_COMMAND, "The ScanCommand in the descriptor is malformed");
      }
    }
    if (any != null && any.getTypeUrl().startsWith(FLIGHT_SQL_TYPE_PREFIX)) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Flight SQL command %s is not supported by this server yet",
          any.getTypeUrl().substring(FLIGHT_SQL_TYPE_PREFIX.length()));
    }
    if (any != null && !any.getTypeUrl().isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND, "Unknown command type %s", any.getTypeUrl());
    }
    throw new QuiverException(
        QuiverErrorCode.UNSUPPORTED_OPERATION,
        "SQL text commands are not supported by this server yet; use a path descriptor"
            + " [namespace, table] or a quiver.v1.ScanCommand");
  }

  private static Any parseAny(byte[] bytes) {
    try {
      Any any = Any.parseFrom(bytes);
      return any.getTypeUrl().startsWith("type.googleapis.com/") ? any : null;
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
