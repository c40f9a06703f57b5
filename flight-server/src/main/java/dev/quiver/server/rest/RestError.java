package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import dev.quiver.client.QuiverException;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NamespaceNotEmptyException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NoSuchViewException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.ServiceUnavailableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.rest.responses.ErrorResponse;

/**
 * A failed REST call as the Iceberg REST spec answers it: an HTTP status and an {@link
 * ErrorResponse} whose {@code type} is the Iceberg exception's simple name, which Iceberg's client
 * turns back into that exception (a 404 of type NoSuchNamespaceException, say).
 *
 * @param code the HTTP status
 * @param type the error type, an Iceberg exception's simple name
 * @param message what failed, naming the object
 */
record RestError(int code, String type, String message) {
  RestError {
    requireNonNull(type, "type is null");
    requireNonNull(message, "message is null");
  }

  /** The error body. */
  ErrorResponse response() {
    return ErrorResponse.builder().responseCode(code).withType(type).withMessage(message).build();
  }

  static RestError unauthenticated(String message) {
    return new RestError(401, NotAuthorizedException.class.getSimpleName(), message);
  }

  static RestError forbidden(String message) {
    return new RestError(403, ForbiddenException.class.getSimpleName(), message);
  }

  static RestError badRequest(String message) {
    return new RestError(400, BadRequestException.class.getSimpleName(), message);
  }

  static RestError notFound(String message) {
    return new RestError(404, "NotFoundException", message);
  }

  /**
   * What {@code e}, thrown while handling a call, answers; empty for a failure of the server's own
   * (500), which the caller logs and answers without its details.
   */
  static java.util.Optional<RestError> of(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof QuiverException q) {
      return quiver(q);
    }
    if (e instanceof RestException r) {
      return java.util.Optional.of(r.error());
    }
    Integer code = null;
    if (e instanceof JacksonException) {
      return java.util.Optional.of(
          badRequest("Malformed request body: " + ((JacksonException) e).getOriginalMessage()));
    } else if (e instanceof NoSuchNamespaceException
        || e instanceof NoSuchTableException
        || e instanceof NoSuchViewException
        || e instanceof NotFoundException) {
      code = 404;
    } else if (e instanceof AlreadyExistsException
        || e instanceof CommitFailedException
        || e instanceof NamespaceNotEmptyException) {
      code = 409;
    } else if (e instanceof IllegalArgumentException
        || e instanceof ValidationException
        || e instanceof BadRequestException
        || e instanceof NullPointerException && isRequestCheck(e)) {
      code = 400;
    } else if (e instanceof UnsupportedOperationException) {
      code = 406;
    } else if (e instanceof CommitStateUnknownException) {
      code = 500;
    } else if (e instanceof ServiceUnavailableException) {
      code = 503;
    }
    if (code == null) {
      return java.util.Optional.empty();
    }
    String type =
        e instanceof NullPointerException
            ? IllegalArgumentException.class.getSimpleName()
            : e.getClass().getSimpleName();
    return java.util.Optional.of(new RestError(code, type, message));
  }

  /**
   * Whether a NullPointerException is a request's own validation ({@code request.validate()} and
   * the parsers check required fields with Preconditions), rather than a bug of the server.
   */
  private static boolean isRequestCheck(Throwable e) {
    for (StackTraceElement frame : e.getStackTrace()) {
      if (frame.getClassName().startsWith("org.apache.iceberg.rest.requests.")
          || frame.getClassName().endsWith("Parser")) {
        return true;
      }
    }
    return false;
  }

  private static java.util.Optional<RestError> quiver(QuiverException e) {
    String message = e.getMessage();
    RestError error =
        switch (e.code()) {
          case TABLE_NOT_FOUND -> new RestError(404, "NoSuchTableException", message);
          case NAMESPACE_NOT_FOUND -> new RestError(404, "NoSuchNamespaceException", message);
          case TABLE_ALREADY_EXISTS -> new RestError(409, "AlreadyExistsException", message);
          case COMMIT_CONFLICT -> new RestError(409, "CommitFailedException", message);
          case CATALOG_UNAVAILABLE, UNAVAILABLE ->
              new RestError(503, "ServiceUnavailableException", message);
          case PERMISSION_DENIED -> forbidden(message);
          case UNAUTHENTICATED -> unauthenticated(message);
          case UNSUPPORTED_OPERATION ->
              new RestError(406, "UnsupportedOperationException", message);
          case INVALID_NAME,
              INVALID_ARGUMENT,
              INVALID_COMMAND,
              INVALID_ACTION,
              INVALID_FILTER,
              INVALID_TICKET,
              SCHEMA_MISMATCH,
              UNSUPPORTED_TYPE ->
              badRequest(message);
          default -> null;
        };
    return java.util.Optional.ofNullable(error);
  }
}
