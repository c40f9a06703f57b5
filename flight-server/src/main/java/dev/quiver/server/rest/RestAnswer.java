package dev.quiver.server.rest;

/**
 * What a route answers: an HTTP status and a JSON body, or none (204, HEAD).
 *
 * @param code the HTTP status
 * @param body the response object, serialised with Iceberg's serializers; null for no body
 */
record RestAnswer(int code, Object body) {
  static final RestAnswer NO_CONTENT = new RestAnswer(204, null);

  static RestAnswer ok(Object body) {
    return new RestAnswer(200, body);
  }
}
