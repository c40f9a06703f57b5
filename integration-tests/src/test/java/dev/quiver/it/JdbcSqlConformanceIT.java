package dev.quiver.it;

import dev.quiver.client.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.ArrowType;

/** The SQL conformance suite through the Flight SQL JDBC driver 18.3, as DBeaver uses it. */
class JdbcSqlConformanceIT extends BaseSqlConformanceIT {
  JdbcSqlConformanceIT(QuiverServerProcess server) {
    super(server);
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return switch (behavior) {
      case UPDATES -> true;
      // JDBC has no bulk ingest call; the 18.3 driver returns nothing from getTypeInfo, hands out
      // java.sql values rather than Arrow, and sets only the catalog (catalog=) as a session
      // option.
      case BULK_INGEST, TYPE_INFO, ARROW_RESULTS, SESSION_SCHEMA -> false;
    };
  }

  @Override
  protected SqlConformanceClient connect(QuiverServerProcess server, BufferAllocator allocator)
      throws SQLException {
    return new Jdbc(SqlJdbcIT.connect(server, ""));
  }

  private record Jdbc(Connection connection) implements SqlConformanceClient {
    @Override
    public List<List<Object>> query(String sql) throws SQLException {
      try (Statement statement = connection.createStatement()) {
        return SqlJdbcIT.rows(statement.executeQuery(sql));
      }
    }

    @Override
    public List<List<Object>> queryPrepared(String sql, List<Object> parameters)
        throws SQLException {
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        for (int i = 0; i < parameters.size(); i++) {
          statement.setObject(i + 1, parameters.get(i));
        }
        return SqlJdbcIT.rows(statement.executeQuery());
      }
    }

    @Override
    public long update(String sql) throws SQLException {
      try (Statement statement = connection.createStatement()) {
        return statement.executeUpdate(sql);
      }
    }

    @Override
    public long ingest(TableId table, long first, long count) {
      throw new UnsupportedOperationException("Bulk ingest is not supported by JDBC");
    }

    @Override
    public List<String> catalogs() throws SQLException {
      return SqlJdbcIT.column(connection.getMetaData().getCatalogs(), "TABLE_CAT");
    }

    @Override
    public List<String> tables(String namespacePattern) throws SQLException {
      List<String> names = new ArrayList<>();
      try (ResultSet rs =
          connection.getMetaData().getTables("quiver", namespacePattern, "%", null)) {
        while (rs.next()) {
          names.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
        }
      }
      return names;
    }

    @Override
    public List<String> typeNames() {
      throw new UnsupportedOperationException(
          "getTypeInfo is not supported by the 18.3 driver (it returns no rows)");
    }

    @Override
    public List<ArrowType> resultTypes(String sql) {
      throw new UnsupportedOperationException("Arrow result types are not supported by JDBC");
    }

    @Override
    public void useSchema(String namespace) {
      throw new UnsupportedOperationException(
          "A session schema is not supported by the 18.3 driver (only catalog=)");
    }

    @Override
    public String status(Throwable error) {
      for (Throwable t = error; t != null; t = t.getCause()) {
        if (t.getClass().getSimpleName().equals("FlightRuntimeException")) {
          try {
            Object status = t.getClass().getMethod("status").invoke(t);
            return status.getClass().getMethod("code").invoke(status).toString();
          } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
          }
        }
      }
      return "(no Flight status in " + error + ")";
    }

    @Override
    public void close() throws SQLException {
      connection.close();
    }
  }
}
