package dev.quiver.server.flightsql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.security.AccessControl;
import dev.quiver.server.security.Right;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlUpdates;
import dev.quiver.server.sql.StatementKind;
import dev.quiver.server.table.IcebergTableStore;
import java.util.Optional;

/**
 * Checks that a user may run a SQL statement: read on the namespace of every table a query names,
 * write on the table an update creates, appends to or drops (and read on what its query part
 * reads).
 *
 * <p>The tables come from DuckDB's own parser ({@link SqlEngine#reads}), the same source the SQL
 * engine binds tables from. With authentication on, SQL reads only Quiver tables: table functions
 * (read_parquet, read_csv, ...) and names that are not Quiver tables (DuckDB's system views, file
 * paths) are refused, since they would read around the grants, and so is a statement whose tables
 * DuckDB's parser cannot list. Without authentication nothing is checked. Thread-safe.
 */
public final class SqlAccess {
  private final AccessControl access;
  private final SqlEngine engine;
  private final SqlUpdates updates;
  private final IcebergTableStore store;

  public SqlAccess(
      AccessControl access, SqlEngine engine, SqlUpdates updates, IcebergTableStore store) {
    this.access = access;
    this.engine = engine;
    this.updates = updates;
    this.store = store;
  }

  /** Checks statement {@code sql} (a query or an update) run by {@code user} in {@code schema}. */
  public void check(String user, String sql, String schema) {
    if (!access.enabled()) {
      return;
    }
    Optional<SqlUpdates.Writes> writes = updates.writes(sql, schema);
    if (writes.isPresent()) {
      access.check(user, Right.WRITE, writes.get().table().namespace());
      if (writes.get().source().isPresent()) {
        checkReads(user, writes.get().source().get(), schema);
      }
    } else if (StatementKind.of(sql) == StatementKind.QUERY) {
      checkReads(user, sql, schema);
    }
    // Anything else is refused by the SQL engine before it runs.
  }

  /** Checks that {@code user} may write {@code table} (bulk ingest). */
  public void checkWrite(String user, TableId table) {
    access.check(user, Right.WRITE, table.namespace());
  }

  private void checkReads(String user, String sql, String schema) {
    SqlEngine.Reads reads = engine.reads(sql, schema);
    if (!reads.parsed()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_SQL,
          "Cannot tell which tables this statement reads (DuckDB's parser cannot serialise it),"
              + " so it cannot be checked against %s's grants",
          user);
    }
    for (String function : reads.functions()) {
      throw new QuiverException(
          QuiverErrorCode.PERMISSION_DENIED,
          "User %s may not call table function %s: with authentication, SQL reads only Quiver"
              + " tables",
          user,
          function);
    }
    for (String other : reads.others()) {
      if (!reads.ctes().contains(other)) {
        throw new QuiverException(
            QuiverErrorCode.PERMISSION_DENIED,
            "User %s may not read %s: with authentication, SQL reads only Quiver tables, named"
                + " namespace.table",
            user,
            other.length() > 100 ? other.substring(0, 100) + "..." : other);
      }
    }
    for (TableId table : reads.tables()) {
      boolean exists = store.find(table).isPresent();
      // An unqualified name that is no Quiver table may be a WITH name. One that is a Quiver table
      // is checked even if a WITH clause somewhere uses the name: scopes are not tracked here.
      if (!exists && reads.ctes().contains(table.name()) && table.namespace().equals(schema)) {
        continue;
      }
      access.check(user, Right.READ, table.namespace());
      if (!exists) {
        // Only after the check, so that a user without read learns nothing about what exists.
        throw new QuiverException(
            QuiverErrorCode.TABLE_NOT_FOUND, "Table %s does not exist", table);
      }
    }
  }
}
