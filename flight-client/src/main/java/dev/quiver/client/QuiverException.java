package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.ErrorFlightMetadata;
import org.apache.arrow.flight.FlightRuntimeException;

/**
 * An error with a {@link QuiverErrorCode}, thrown by the server's handlers and by the client SDK.
 *
 * <p>Messages are concrete and name the table, column, limit or value involved.
 */
public class QuiverException extends RuntimeException {
  private final QuiverErrorCode code;

  /** An error whose message is {@code String.format(Locale.ROOT, format, args)}. */
  public QuiverException(QuiverErrorCode code, String format, Object... args) {
    super(args.length == 0 ? format : String.format(Locale.ROOT, format, args));
    this.code = requireNonNull(code, "code is null");
  }

  /** An error with a cause; the message is formatted as in the other constructor. */
  public QuiverException(QuiverErrorCode code, Throwable cause, String format, Object... args) {
    super(args.length == 0 ? format : String.format(Locale.ROOT, format, args), cause);
    this.code = requireNonNull(code, "code is null");
  }

  public QuiverErrorCode code() {
    return code;
  }

  /** This error as the Flight exception the server sends; the code rides in the metadata. */
  public FlightRuntimeException toFlight() {
    ErrorFlightMetadata metadata = new ErrorFlightMetadata();
    metadata.insert(QuiverErrorCode.METADATA_KEY, code.name());
    return new CallStatus(code.flightStatus(), null, getMessage(), metadata).toRuntimeException();
  }

  /**
   * The Quiver error a Flight error stands for: the code from the metadata when the server sent
   * one, else the closest code for the status.
   */
  public static QuiverException fromFlight(FlightRuntimeException e) {
    CallStatus status = e.status();
    QuiverErrorCode code = QuiverErrorCode.fromFlightStatus(status.code());
    ErrorFlightMetadata metadata = status.metadata();
    // ErrorFlightMetadata.get throws when the key is absent (errors raised by gRPC itself).
    if (metadata != null && metadata.containsKey(QuiverErrorCode.METADATA_KEY)) {
      String name = metadata.get(QuiverErrorCode.METADATA_KEY);
      if (name != null) {
        try {
          code = QuiverErrorCode.valueOf(name);
        } catch (IllegalArgumentException unknown) {
          // A newer server's code: keep the status-derived one.
        }
      }
    }
    String message = status.description() == null ? status.code().name() : status.description();
    return new QuiverException(code, e, "%s", message);
  }
}
