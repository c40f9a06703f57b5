package dev.quiver.it;

import dev.quiver.client.TableId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SessionOptionValueFactory;
import org.apache.arrow.flight.SetSessionOptionsRequest;
import org.apache.arrow.flight.client.ClientCookieMiddleware;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableExistsOption;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableNotExistOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

/** The SQL conformance suite through Arrow's own FlightSqlClient: every Flight SQL feature. */
class FlightSqlClientConformanceIT extends BaseSqlConformanceIT {
  FlightSqlClientConformanceIT(QuiverServerProcess server) {
    super(server);
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return true;
  }

  @Override
  protected SqlConformanceClient connect(QuiverServerProcess server, BufferAllocator allocator) {
    FlightClient flight =
        FlightClient.builder(allocator, server.location())
            .intercept(new ClientCookieMiddleware.Factory()) // carries the session cookie
            .build();
    return new Sql(flight, new FlightSqlClient(flight), allocator);
  }

  private record Sql(FlightClient flight, FlightSqlClient sql, BufferAllocator allocator)
      implements SqlConformanceClient {
    @Override
    public List<List<Object>> query(String text) throws Exception {
      return rows(sql.execute(text));
    }

    @Override
    public List<List<Object>> queryPrepared(String text, List<Object> parameters) throws Exception {
      try (FlightSqlClient.PreparedStatement prepared = sql.prepare(text);
          VectorSchemaRoot root =
              VectorSchemaRoot.create(prepared.getParameterSchema(), allocator)) {
        for (int i = 0; i < parameters.size(); i++) {
          FieldVector vector = root.getVector(i);
          if (vector instanceof BigIntVector longs) {
            longs.setSafe(0, (Long) parameters.get(i));
          } else {
            ((VarCharVector) vector)
                .setSafe(0, parameters.get(i).toString().getBytes(StandardCharsets.UTF_8));
          }
        }
        root.setRowCount(1);
        prepared.setParameters(root);
        return rows(prepared.execute());
      }
    }

    @Override
    public long update(String text) {
      return sql.executeUpdate(text);
    }

    @Override
    public long ingest(TableId table, long first, long count) {
      try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator)) {
        FlightTables.fill(root, first, (int) count);
        TableDefinitionOptions options =
            TableDefinitionOptions.newBuilder()
                .setIfNotExist(TableNotExistOption.TABLE_NOT_EXIST_OPTION_CREATE)
                .setIfExists(TableExistsOption.TABLE_EXISTS_OPTION_APPEND)
                .build();
        return sql.executeIngest(
            root,
            new FlightSqlClient.ExecuteIngestOptions(
                table.name(), options, null, table.namespace(), Map.of()));
      }
    }

    @Override
    public List<String> catalogs() throws Exception {
      return column(sql.getCatalogs(), 0);
    }

    @Override
    public List<String> tables(String namespacePattern) throws Exception {
      List<String> names = new ArrayList<>();
      List<String> schemas = column(sql.getTables(null, namespacePattern, null, null, false), 1);
      List<String> tables = column(sql.getTables(null, namespacePattern, null, null, false), 2);
      for (int i = 0; i < tables.size(); i++) {
        names.add(schemas.get(i) + "." + tables.get(i));
      }
      return names;
    }

    @Override
    public List<String> typeNames() throws Exception {
      return column(sql.getXdbcTypeInfo(), 0);
    }

    @Override
    public List<ArrowType> resultTypes(String text) throws Exception {
      FlightInfo info = sql.execute(text);
      try (FlightStream stream = flight.getStream(info.getEndpoints().get(0).getTicket())) {
        return stream.getSchema().getFields().stream().map(Field::getType).toList();
      }
    }

    @Override
    public void useSchema(String namespace) {
      sql.setSessionOptions(
          new SetSessionOptionsRequest(
              Map.of("schema", SessionOptionValueFactory.makeSessionOptionValue(namespace))));
    }

    @Override
    public String status(Throwable error) {
      return error instanceof FlightRuntimeException flightError
          ? flightError.status().code().name()
          : "(no Flight status in " + error + ")";
    }

    private List<List<Object>> rows(FlightInfo info) throws Exception {
      List<List<Object>> rows = new ArrayList<>();
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        try (FlightStream stream = flight.getStream(endpoint.getTicket())) {
          while (stream.next()) {
            VectorSchemaRoot root = stream.getRoot();
            for (int r = 0; r < root.getRowCount(); r++) {
              List<Object> row = new ArrayList<>();
              for (FieldVector vector : root.getFieldVectors()) {
                row.add(SqlConformanceClient.plain(vector.getObject(r)));
              }
              rows.add(row);
            }
          }
        }
      }
      return rows;
    }

    private List<String> column(FlightInfo info, int index) throws Exception {
      List<String> values = new ArrayList<>();
      for (List<Object> row : rows(info)) {
        values.add(String.valueOf(row.get(index)));
      }
      return values;
    }

    @Override
    public void close() throws Exception {
      sql.close();
    }
  }
}
