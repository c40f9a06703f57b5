package dev.quiver.server.flightsql;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.sql.SqlEngine;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open prepared statements, by handle: their SQL, the namespace unqualified names resolve in,
 * their shape and the parameter rows bound last. ClosePreparedStatement removes one; nothing else
 * is held for it (DuckDB statements live only while a query runs).
 *
 * <p>At most {@link #MAX_OPEN} statements are open at once, so clients that never close theirs
 * cannot fill the server's memory.
 */
@ThreadSafe
public final class PreparedStatements {
  static final int MAX_OPEN = 10_000;

  private final Map<ByteString, Prepared> open = new ConcurrentHashMap<>();

  /**
   * One prepared statement.
   *
   * @param sql its text
   * @param schema the namespace unqualified table names resolve in ("" for none)
   * @param shape its parameters and results
   * @param query whether it returns rows (else it is an update)
   * @param parameters the parameter rows bound last; empty before any
   * @param transaction the Flight SQL transaction it runs in; empty for none (each run commits)
   */
  public record Prepared(
      String sql,
      String schema,
      SqlEngine.Shape shape,
      boolean query,
      List<List<Object>> parameters,
      ByteString transaction) {
    public Prepared {
      requireNonNull(transaction, "transaction is null");
      requireNonNull(sql, "sql is null");
      requireNonNull(schema, "schema is null");
      requireNonNull(shape, "shape is null");
      parameters = List.copyOf(parameters.stream().map(PreparedStatements::copyRow).toList());
    }

    /** The one row of parameters a query runs with (empty without parameters). */
    List<Object> queryParameters() {
      if (parameters.size() > 1) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "A prepared query takes one row of parameters, not %d",
            parameters.size());
      }
      return parameters.isEmpty() ? List.of() : parameters.get(0);
    }
  }

  // List.copyOf refuses nulls, and SQL NULL is a fine parameter.
  private static List<Object> copyRow(List<Object> row) {
    return java.util.Collections.unmodifiableList(new java.util.ArrayList<>(row));
  }

  ByteString add(Prepared prepared) {
    if (open.size() >= MAX_OPEN) {
      throw new QuiverException(
          QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
          "%d prepared statements are open, the most the server keeps; close some",
          MAX_OPEN);
    }
    ByteString handle = ByteString.copyFrom(UUID.randomUUID().toString(), StandardCharsets.UTF_8);
    open.put(handle, prepared);
    return handle;
  }

  public Prepared get(ByteString handle) {
    Prepared prepared = open.get(handle);
    if (prepared == null) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          "Prepared statement %s is not open (closed, or opened on another server)",
          handle.toStringUtf8());
    }
    return prepared;
  }

  void bind(ByteString handle, List<List<Object>> parameters) {
    open.computeIfPresent(
        handle,
        (h, p) ->
            new Prepared(p.sql(), p.schema(), p.shape(), p.query(), parameters, p.transaction()));
    get(handle);
  }

  void close(ByteString handle) {
    open.remove(handle);
  }

  int size() {
    return open.size();
  }
}
