package dev.quiver.client;

import org.apache.arrow.flight.FlightStatusCode;

/**
 * Every error Quiver reports, each paired with the Flight status it travels as.
 *
 * <p>The server sends the code's name in the {@value #METADATA_KEY} error metadata key beside the
 * Flight status; {@link QuiverException#fromFlight} turns it back into this enum on the client. A
 * client that does not know Quiver (pyarrow, the JDBC driver) still sees the right status.
 */
public enum QuiverErrorCode {
  TABLE_NOT_FOUND(FlightStatusCode.NOT_FOUND),
  NAMESPACE_NOT_FOUND(FlightStatusCode.NOT_FOUND),
  SNAPSHOT_NOT_FOUND(FlightStatusCode.NOT_FOUND),
  /** A Flight SQL transaction id that is not open for the caller (ended, expired, unknown). */
  TRANSACTION_NOT_FOUND(FlightStatusCode.NOT_FOUND),
  TABLE_ALREADY_EXISTS(FlightStatusCode.ALREADY_EXISTS),
  INVALID_NAME(FlightStatusCode.INVALID_ARGUMENT),
  INVALID_TICKET(FlightStatusCode.INVALID_ARGUMENT),
  INVALID_COMMAND(FlightStatusCode.INVALID_ARGUMENT),
  INVALID_ACTION(FlightStatusCode.INVALID_ARGUMENT),
  INVALID_FILTER(FlightStatusCode.INVALID_ARGUMENT),
  SCHEMA_MISMATCH(FlightStatusCode.INVALID_ARGUMENT),
  UNSUPPORTED_TYPE(FlightStatusCode.INVALID_ARGUMENT),
  INVALID_ARGUMENT(FlightStatusCode.INVALID_ARGUMENT),
  /** SQL that DuckDB cannot parse, bind or run: the message is DuckDB's. */
  INVALID_SQL(FlightStatusCode.INVALID_ARGUMENT),
  UNSUPPORTED_OPERATION(FlightStatusCode.UNIMPLEMENTED),
  COMMIT_CONFLICT(FlightStatusCode.UNAVAILABLE),
  QUERY_MEMORY_EXCEEDED(FlightStatusCode.RESOURCE_EXHAUSTED),
  SERVER_MEMORY_EXHAUSTED(FlightStatusCode.RESOURCE_EXHAUSTED),
  /** A size or count the server bounds (a {@code limits.*} key, which the message names). */
  LIMIT_EXCEEDED(FlightStatusCode.RESOURCE_EXHAUSTED),
  /** The data folder's disk is full: the write failed and nothing was committed. */
  STORAGE_FULL(FlightStatusCode.RESOURCE_EXHAUSTED),
  /** The catalog database is locked past storage.catalog-busy-timeout, or cannot be reached. */
  CATALOG_UNAVAILABLE(FlightStatusCode.UNAVAILABLE),
  CANCELLED(FlightStatusCode.CANCELLED),
  TIMED_OUT(FlightStatusCode.TIMED_OUT),
  UNAUTHENTICATED(FlightStatusCode.UNAUTHENTICATED),
  PERMISSION_DENIED(FlightStatusCode.UNAUTHORIZED),
  UNAVAILABLE(FlightStatusCode.UNAVAILABLE),
  INTERNAL(FlightStatusCode.INTERNAL);

  /** The gRPC error metadata key that carries the code's name. */
  public static final String METADATA_KEY = "quiver-error-code";

  private final FlightStatusCode flightStatus;

  QuiverErrorCode(FlightStatusCode flightStatus) {
    this.flightStatus = flightStatus;
  }

  /** The Flight status this error travels as. */
  public FlightStatusCode flightStatus() {
    return flightStatus;
  }

  /**
   * The code a client should assume when the server sent only a Flight status (an older server, or
   * an error raised by gRPC itself).
   */
  public static QuiverErrorCode fromFlightStatus(FlightStatusCode status) {
    switch (status) {
      case NOT_FOUND:
        return TABLE_NOT_FOUND;
      case ALREADY_EXISTS:
        return TABLE_ALREADY_EXISTS;
      case INVALID_ARGUMENT:
        return INVALID_ARGUMENT;
      case UNIMPLEMENTED:
        return UNSUPPORTED_OPERATION;
      case RESOURCE_EXHAUSTED:
        return SERVER_MEMORY_EXHAUSTED;
      case CANCELLED:
        return CANCELLED;
      case TIMED_OUT:
        return TIMED_OUT;
      case UNAUTHENTICATED:
        return UNAUTHENTICATED;
      case UNAUTHORIZED:
        return PERMISSION_DENIED;
      case UNAVAILABLE:
        return UNAVAILABLE;
      default:
        return INTERNAL;
    }
  }
}
