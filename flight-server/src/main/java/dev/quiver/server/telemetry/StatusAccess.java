package dev.quiver.server.telemetry;

/**
 * Who may see the status page and {@code /status.json} (running and recent calls, with table
 * names): everyone without authentication; with it, what {@link #check} answers for the request's
 * {@code Authorization} header. Implementations are thread-safe.
 */
@FunctionalInterface
public interface StatusAccess {
  /** Everyone may: the server runs without authentication. */
  StatusAccess OPEN = authorization -> Decision.ALLOWED;

  /** What a request may do. */
  enum Decision {
    ALLOWED,
    /** No or wrong credentials: answered 401 with a Basic challenge. */
    UNAUTHENTICATED,
    /** A user who lacks the right: answered 403. */
    FORBIDDEN
  }

  /**
   * Decides for a request whose {@code Authorization} header is {@code authorization} (null when
   * absent).
   */
  Decision check(String authorization);
}
