package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

/** Ends a REST call with {@link #error()}: a refused login, a missing grant, a bad route. */
final class RestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient RestError error;

  RestException(RestError error) {
    super(requireNonNull(error, "error is null").message(), null, false, false);
    this.error = error;
  }

  RestError error() {
    return error;
  }
}
