package dev.quiver.server.call;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.memory.MemoryGovernor;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientException;
import java.util.Optional;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.jdbc.UncheckedSQLException;
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

  /** strerror(ENOSPC), as both the JDK and DuckDB print it. */
  private static final String NO_SPACE = "No space left on device";

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
    Optional<QuiverException> storage = storageFailure(call, t);
    if (storage.isPresent()) {
      LOG.warn("{}", storage.get().getMessage());
      return storage.get().toFlight();
    }
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

  /**
   * A full disk (ENOSPC, from DuckDB's text or a Java IOException) or a catalog database that is
   * locked or unreachable, anywhere in {@code t}'s causes, as the error the client should see; such
   * failures come wrapped in DuckDB, Iceberg and Quiver exceptions alike.
   */
  static Optional<QuiverException> storageFailure(String call, Throwable t) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < 12; depth++) {
      String message = current.getMessage();
      if (message != null && message.contains(NO_SPACE)) {
        return Optional.of(
            new QuiverException(
                QuiverErrorCode.STORAGE_FULL,
                t,
                "%s failed: no space left on the data folder's disk; nothing was committed",
                call));
      }
      if (current instanceof UncheckedSQLException && catalogUnreachable(current)) {
        Throwable sql = current.getCause() == null ? current : current.getCause();
        return Optional.of(
            new QuiverException(
                QuiverErrorCode.CATALOG_UNAVAILABLE,
                t,
                "%s failed: the catalog database is locked or unavailable (%s); retry",
                call,
                sql.getMessage()));
      }
      current = current.getCause();
    }
    return Optional.empty();
  }

  /** A locked (SQLITE_BUSY, SQLITE_LOCKED) or unreachable catalog database, not a bad statement. */
  private static boolean catalogUnreachable(Throwable catalogError) {
    Throwable cause = catalogError.getCause();
    if (cause instanceof SQLTransientException
        || cause instanceof SQLNonTransientConnectionException) {
      return true;
    }
    String text = String.valueOf(catalogError.getMessage()) + " " + String.valueOf(cause);
    return text.contains("SQLITE_BUSY")
        || text.contains("SQLITE_LOCKED")
        || text.contains("database is locked")
        || text.contains("SQLITE_CANTOPEN")
        || text.contains("SQLITE_IOERR");
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
