package dev.quiver.client;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallInfo;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightClientMiddleware;
import org.apache.arrow.flight.FlightMethod;

/**
 * Keeps the bearer token the server sent back from the last handshake and sends it on every other
 * call. Thread-safe: the token is swapped atomically when the client logs in again.
 */
final class BearerTokenMiddleware implements FlightClientMiddleware {
  private static final String AUTHORIZATION = "authorization";
  private static final String BEARER = "Bearer ";

  private final AtomicReference<String> token;
  private final boolean handshake;

  private BearerTokenMiddleware(AtomicReference<String> token, boolean handshake) {
    this.token = token;
    this.handshake = handshake;
  }

  /** A factory sharing {@code token} between the calls of one client. */
  static FlightClientMiddleware.Factory factory(AtomicReference<String> token) {
    return (CallInfo info) ->
        new BearerTokenMiddleware(token, info.method() == FlightMethod.HANDSHAKE);
  }

  @Override
  public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {
    String current = token.get();
    // The handshake carries the Basic credentials instead.
    if (!handshake && current != null && !outgoingHeaders.containsKey(AUTHORIZATION)) {
      outgoingHeaders.insert(AUTHORIZATION, BEARER + current);
    }
  }

  @Override
  public void onHeadersReceived(CallHeaders incomingHeaders) {
    if (!handshake) {
      return;
    }
    String value = incomingHeaders.get(AUTHORIZATION);
    if (value != null && value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      token.set(value.substring(BEARER.length()));
    }
  }

  @Override
  public void onCallCompleted(CallStatus status) {}
}
