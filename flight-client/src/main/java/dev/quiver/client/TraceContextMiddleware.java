package dev.quiver.client;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightClientMiddleware;

/**
 * Sends the caller's current OpenTelemetry context with every call as W3C {@code traceparent} (and
 * {@code tracestate}) headers, so the server's span for the call joins the caller's trace.
 *
 * <p>Uses the OpenTelemetry API only: an application without OpenTelemetry has no valid span in its
 * context, and then nothing is sent. The headers are written when the call starts, on the thread
 * that starts it, so the context is the one current there (readers that start calls on their own
 * threads carry the caller's context over, see {@link ParallelScanReader}).
 */
final class TraceContextMiddleware implements FlightClientMiddleware {
  private static final TextMapSetter<CallHeaders> HEADERS =
      (carrier, key, value) -> carrier.insert(key, value);

  private static final TraceContextMiddleware INSTANCE = new TraceContextMiddleware();

  /** The factory to register with the Flight client; stateless, so one instance serves all. */
  static final FlightClientMiddleware.Factory FACTORY = TraceContextMiddleware::create;

  private TraceContextMiddleware() {}

  @Override
  public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {
    W3CTraceContextPropagator.getInstance().inject(Context.current(), outgoingHeaders, HEADERS);
  }

  @Override
  public void onHeadersReceived(CallHeaders incomingHeaders) {}

  @Override
  public void onCallCompleted(CallStatus status) {}

  private static FlightClientMiddleware create(CallInfo info) {
    return INSTANCE;
  }
}
