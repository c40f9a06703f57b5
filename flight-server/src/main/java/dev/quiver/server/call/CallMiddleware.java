package dev.quiver.server.call;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.flight.transport.MalformedMessages;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.SqlTurns;
import dev.quiver.server.telemetry.CallTrace;
import dev.quiver.server.telemetry.CallTracer;
import java.util.Optional;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightProducer.CallContext;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.RequestContext;

/**
 * Makes each Flight call's {@link QuiverCall} when the call starts and ends its trace when the call
 * ends. The middleware instance holds the call object for the whole call (no thread-locals), as
 * Arrow's FlightServer.Builder.middleware intends.
 */
public final class CallMiddleware implements FlightServerMiddleware {
  /** The key the middleware is registered under. */
  public static final Key<CallMiddleware> KEY = Key.of("quiver-call");

  private final QuiverCall call;

  private CallMiddleware(QuiverCall call) {
    this.call = call;
  }

  @Override
  public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {}

  @Override
  public void onCallCompleted(CallStatus status) {
    call.trace().end(status);
  }

  @Override
  public void onCallErrored(Throwable err) {
    call.trace().span().recordException(err);
  }

  /** Creates the middleware for each call; thread-safe. */
  public static final class Factory implements FlightServerMiddleware.Factory<CallMiddleware> {
    private final Optional<CallTracer> tracer;
    private final MemoryGovernor memory;
    private final SqlTurns turns;

    /**
     * @param tracer what traces calls; empty when telemetry is off
     * @param memory the governor calls take their memory from
     * @param turns the SQL engine's turns
     */
    public Factory(Optional<CallTracer> tracer, MemoryGovernor memory, SqlTurns turns) {
      this.tracer = requireNonNull(tracer, "tracer is null");
      this.memory = requireNonNull(memory, "memory is null");
      this.turns = requireNonNull(turns, "turns is null");
    }

    @Override
    public CallMiddleware onCallStarted(
        CallInfo info, CallHeaders incomingHeaders, RequestContext context) {
      CallTrace trace = tracer.map(t -> t.start(info, incomingHeaders)).orElse(CallTrace.NONE);
      return new CallMiddleware(new QuiverCall(trace, memory, turns));
    }

    /**
     * The call {@code context} belongs to, bound to it; where the call entered Quiver, so the
     * upload signals of its gRPC context are the call's own. A context served without this
     * middleware (none in the server) gets an untraced call of its own.
     */
    public QuiverCall of(CallContext context) {
      CallMiddleware middleware = context.getMiddleware(KEY);
      QuiverCall call =
          middleware == null ? new QuiverCall(CallTrace.NONE, memory, turns) : middleware.call;
      return call.bind(context, MalformedMessages.signals());
    }
  }
}
