package dev.quiver.server.flight;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.MemoryGovernor;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns whatever a handler threw into the Flight status the client sees.
 *
 * <p>Expected errors ({@link QuiverException}, statuses raised by Flight itself) pass through with
 * their code; anything else is a bug or an environment failure, logged with its stack and reported
 * as INTERNAL with the exception's message (never a stack trace).
 */
public final class FlightErrors {
  private static final Logger LOG = LoggerFactory.getLogger(FlightErrors.class);

  private FlightErrors() {}

  /**
   * As {@link #toFlight(String, Throwable)}, but an Arrow OutOfMemoryException becomes the
   * governor's error naming the call and the limit it hit ({@link MemoryGovernor#exceeded}).
   */
  public static FlightRuntimeException toFlight(String call, Throwable t, MemoryGovernor memory) {
    Throwable cause = unwrap(t);
    if (cause instanceof OutOfMemoryException || outOfMemoryInNativeCode(t)) {
      return memory.exceeded(call, cause).toFlight();
    }
    return toFlight(call, t);
  }

  /**
   * Whether an Arrow OutOfMemoryException came back through native code as text: DuckDB reports a
   * failure of the Arrow stream it reads (our allocator running out while exporting a batch) only
   * as the message of an SQLException.
   */
  private static boolean outOfMemoryInNativeCode(Throwable t) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < 10; depth++) {
      String message = current.getMessage();
      if (message != null && message.contains(OutOfMemoryException.class.getName())) {
        return true;
      }
      current = current.getCause();
    }
    return false;
  }

  /** The Flight exception to send for {@code t}, raised while serving {@code call}. */
  public static FlightRuntimeException toFlight(String call, Throwable t) {
    Throwable cause = unwrap(t);
    if (cause instanceof FlightRuntimeException flight) {
      return flight;
    }
    if (cause instanceof QuiverException quiver) {
      if (quiver.code() == QuiverErrorCode.INTERNAL) {
        LOG.error("{} failed", call, quiver);
      }
      return quiver.toFlight();
    }
    if (cause instanceof OutOfMemoryException) {
      return new QuiverException(
              QuiverErrorCode.QUERY_MEMORY_EXCEEDED,
              cause,
              "%s ran out of Arrow memory: %s",
              call,
              cause.getMessage())
          .toFlight();
    }
    if (cause instanceof NoSuchTableException) {
      return new QuiverException(QuiverErrorCode.TABLE_NOT_FOUND, "%s", cause.getMessage())
          .toFlight();
    }
    if (cause instanceof CommitFailedException) {
      return new QuiverException(
              QuiverErrorCode.COMMIT_CONFLICT,
              "%s could not commit: %s; retry",
              call,
              cause.getMessage())
          .toFlight();
    }
    LOG.error("{} failed", call, cause);
    return CallStatus.INTERNAL
        .withCause(cause)
        .withDescription(call + " failed: " + cause)
        .toRuntimeException();
  }

  /** Whether {@code t} means the client went away (no need to log or answer). */
  public static boolean isCancellation(Throwable t) {
    Throwable cause = unwrap(t);
    return cause instanceof FlightRuntimeException flight
        && flight.status().code() == FlightStatusCode.CANCELLED;
  }

  /** The QuiverException or Flight error buried in wrappers (DuckDB, executors), if any. */
  static Throwable unwrap(Throwable t) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < 10; depth++) {
      if (current instanceof QuiverException
          || current instanceof FlightRuntimeException
          || current instanceof OutOfMemoryException) {
        return current;
      }
      current = current.getCause();
    }
    return t;
  }
}
