package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightMethod;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.RequestContext;

/**
 * Opens one span per Flight call and ends it with the call's status.
 *
 * <p>The span continues the client's W3C {@code traceparent} (and {@code tracestate}) from the
 * call's gRPC headers and carries rpc.system=grpc, rpc.service and rpc.method. The middleware
 * instance holds the call's {@link CallTrace} for the whole call (no thread-locals); handlers fetch
 * it with {@link CallTrace#of} and make it current explicitly where they log.
 *
 * <p>A call the client cancels may never be closed by the server (a DoGet stream just stops), so
 * the trace is also ended, as CANCELLED, when gRPC cancels the call's context.
 */
public final class TracingMiddleware implements FlightServerMiddleware {
  /** The key handlers use to find the middleware in their CallContext. */
  public static final Key<TracingMiddleware> KEY = Key.of("quiver-tracing");

  static final String SERVICE = "arrow.flight.protocol.FlightService";
  static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");

  private static final TextMapGetter<CallHeaders> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(CallHeaders carrier) {
          return carrier.keys();
        }

        @Override
        public String get(CallHeaders carrier, String key) {
          return carrier == null || !carrier.containsKey(key) ? null : carrier.get(key);
        }
      };

  private final CallTrace trace;

  private TracingMiddleware(CallTrace trace) {
    this.trace = trace;
  }

  CallTrace trace() {
    return trace;
  }

  @Override
  public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {}

  @Override
  public void onCallCompleted(CallStatus status) {
    trace.end(status);
  }

  @Override
  public void onCallErrored(Throwable err) {
    trace.span().recordException(err);
  }

  private static void endIfCancelled(io.grpc.Context context, CallTrace trace) {
    Throwable cause = context.cancellationCause();
    if (cause == null) {
      return;
    }
    trace.end(
        cause instanceof java.util.concurrent.TimeoutException
            ? CallStatus.TIMED_OUT
            : CallStatus.CANCELLED);
  }

  /** The gRPC method name of {@code method}, e.g. DoGet. */
  static String methodName(FlightMethod method) {
    return switch (method) {
      case HANDSHAKE -> "Handshake";
      case LIST_FLIGHTS -> "ListFlights";
      case GET_FLIGHT_INFO -> "GetFlightInfo";
      case GET_SCHEMA -> "GetSchema";
      case DO_GET -> "DoGet";
      case DO_PUT -> "DoPut";
      case DO_ACTION -> "DoAction";
      case LIST_ACTIONS -> "ListActions";
      case DO_EXCHANGE -> "DoExchange";
      case POLL_FLIGHT_INFO -> "PollFlightInfo";
    };
  }

  /** Creates the middleware for each call; thread-safe. */
  static final class Factory implements FlightServerMiddleware.Factory<TracingMiddleware> {
    private final Tracer tracer;
    private final CallMetrics metrics;
    private final CallRegistry registry;

    Factory(Tracer tracer, CallMetrics metrics, CallRegistry registry) {
      this.tracer = requireNonNull(tracer, "tracer is null");
      this.metrics = requireNonNull(metrics, "metrics is null");
      this.registry = requireNonNull(registry, "registry is null");
    }

    @Override
    public TracingMiddleware onCallStarted(
        CallInfo info, CallHeaders incomingHeaders, RequestContext context) {
      String method = methodName(info.method());
      Context parent =
          W3CTraceContextPropagator.getInstance().extract(Context.root(), incomingHeaders, HEADERS);
      Span span =
          tracer
              .spanBuilder(SERVICE + "/" + method)
              .setParent(parent)
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(RPC_SYSTEM, "grpc")
              .setAttribute(RPC_SERVICE, SERVICE)
              .setAttribute(RPC_METHOD, method)
              .startSpan();
      CallTrace trace = new CallTrace(span, parent.with(span), method, metrics, registry);
      // Interceptors run inside the call's cancellable gRPC context. It is cancelled with a cause
      // when the client cancels or its deadline passes, and without one after a normal close.
      io.grpc.Context.current()
          .addListener(cancelled -> endIfCancelled(cancelled, trace), Runnable::run);
      return new TracingMiddleware(trace);
    }
  }
}
