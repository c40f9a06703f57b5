package dev.quiver.server.sql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns DuckDB's errors into Quiver's, keeping DuckDB's message, which names the problem. */
final class SqlErrors {
  private static final Pattern MISSING_TABLE =
      Pattern.compile("Table with name \"?([^\"\\s!]+)\"? does not exist");

  private SqlErrors() {}

  /**
   * The Quiver error for DuckDB running out of {@code sql.memory-limit}, or null when {@code e} is
   * something else. DuckDB reports it anywhere in its message: while streaming, as the text of the
   * C stream's error (a CDataJniException inside an IOException); opening a connection, inside "IO
   * Error: ...".
   */
  static QuiverException outOfMemoryIn(Exception e) {
    String message = String.valueOf(e.getMessage());
    int at = message.indexOf("Out of Memory Error");
    if (at < 0) {
      return null;
    }
    int end = message.indexOf('\n', at);
    return outOfMemory(e, message.substring(at, end < 0 ? message.length() : end).strip());
  }

  private static QuiverException outOfMemory(Exception e, String message) {
    return new QuiverException(
        QuiverErrorCode.QUERY_MEMORY_EXCEEDED,
        e,
        "The SQL query needs more memory than sql.memory-limit allows (DuckDB's memory is shared"
            + " by every running query and DoGet scan): %s",
        message);
  }

  /** The Quiver error for a failed statement; {@code cancelled} when Quiver interrupted it. */
  static QuiverException from(SQLException e, boolean cancelled) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    if (cancelled || message.startsWith("INTERRUPT Error")) {
      return new QuiverException(QuiverErrorCode.CANCELLED, e, "The SQL query was cancelled");
    }
    Matcher missing = MISSING_TABLE.matcher(message);
    if (message.startsWith("Catalog Error") && missing.find()) {
      return new QuiverException(
          QuiverErrorCode.TABLE_NOT_FOUND,
          e,
          "Table %s does not exist (tables are named namespace.table): %s",
          missing.group(1),
          message);
    }
    if (message.startsWith("Out of Memory Error")) {
      return outOfMemory(e, message);
    }
    if (message.startsWith("Permission Error")) {
      return new QuiverException(QuiverErrorCode.PERMISSION_DENIED, e, "%s", message);
    }
    if (message.startsWith("Parser Error")
        || message.startsWith("Binder Error")
        || message.startsWith("Catalog Error")
        || message.startsWith("Conversion Error")
        || message.startsWith("Invalid Input Error")
        || message.startsWith("Not implemented Error")
        || message.startsWith("Constraint Error")
        || message.startsWith("Out of Range Error")
        || message.startsWith("Invalid Error")) {
      return new QuiverException(QuiverErrorCode.INVALID_SQL, e, "%s", message);
    }
    return new QuiverException(QuiverErrorCode.INTERNAL, e, "The SQL query failed: %s", message);
  }
}
