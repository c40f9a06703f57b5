package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
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

/**
 * Starts the trace of each Flight call: one span, continuing the client's W3C {@code traceparent}
 * (and {@code tracestate}) from the call's gRPC headers, with rpc.system=grpc, rpc.service and
 * rpc.method, plus the call's metrics and status-page row ({@link CallTrace}).
 *
 * <p>A call the client cancels may never be closed by the server (a DoGet stream just stops), so
 * the trace is also ended, as CANCELLED, when gRPC cancels the call's context.
 */
@ThreadSafe
public final class CallTracer {
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

  private final Tracer tracer;
  private final CallMetrics metrics;
  private final CallRegistry registry;

  CallTracer(Tracer tracer, CallMetrics metrics, CallRegistry registry) {
    this.tracer = requireNonNull(tracer, "tracer is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.registry = requireNonNull(registry, "registry is null");
  }

  /**
   * Starts the trace of the call now starting; run inside the call's gRPC context (a Flight
   * middleware's onCallStarted), whose cancellation ends it.
   */
  public CallTrace start(CallInfo info, CallHeaders incomingHeaders) {
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
    return trace;
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
}
