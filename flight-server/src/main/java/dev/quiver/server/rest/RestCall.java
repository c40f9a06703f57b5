package dev.quiver.server.rest;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * One REST call as the routes see it.
 *
 * @param method the HTTP method, upper case
 * @param path the path's segments, still percent-encoded (a namespace's levels are separated by
 *     {@code %1F} inside one segment)
 * @param query the query parameters, decoded
 * @param body the request body (empty when there is none)
 * @param user who makes the call ({@link RestAccess#ANONYMOUS} without authentication)
 */
record RestCall(
    String method, List<String> path, Map<String, String> query, byte[] body, String user) {
  RestCall {
    requireNonNull(method, "method is null");
    path = List.copyOf(path);
    query = Map.copyOf(query);
    requireNonNull(body, "body is null");
    requireNonNull(user, "user is null");
  }

  /** The body as {@code type}, parsed with Iceberg's serializers. */
  <T> T body(Class<T> type) throws java.io.IOException {
    return RestJson.MAPPER.readValue(body, type);
  }
}
