package dev.quiver.client;

import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.ErrorFlightMetadata;
import org.apache.arrow.flight.FlightRuntimeException;

/** The SDK's one door from Flight errors to {@link QuiverException}. */
final class FlightErrors {
  private FlightErrors() {}

  /**
   * The Quiver error {@code e} stands for, as {@link QuiverException#fromFlight} reads it.
   *
   * <p>Arrow's {@code ErrorFlightMetadata.get} throws NoSuchElementException for an absent key
   * instead of returning null, and {@code fromFlight} (shared contract, not ours to change) calls
   * it unguarded; so an error without the Quiver key is mapped here from its status alone.
   */
  static QuiverException toQuiver(FlightRuntimeException e) {
    CallStatus status = e.status();
    ErrorFlightMetadata metadata = status.metadata();
    if (metadata == null || metadata.containsKey(QuiverErrorCode.METADATA_KEY)) {
      return QuiverException.fromFlight(e);
    }
    String message = status.description() == null ? status.code().name() : status.description();
    return new QuiverException(QuiverErrorCode.fromFlightStatus(status.code()), e, "%s", message);
  }
}
