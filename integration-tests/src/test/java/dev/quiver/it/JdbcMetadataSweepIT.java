package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.flight.sql.util.TableRef;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a BI tool such as DBeaver does when it connects: calls every DatabaseMetaData method with
 * the Arrow Flight SQL JDBC driver, unmodified. None may throw, and the key listings (empty: Quiver
 * tables have no keys) still carry their JDBC columns.
 */
@ExtendWith({QuiverServerExtension.class, ArrowAllocatorExtension.class})
class JdbcMetadataSweepIT {
  private final QuiverServerProcess server;
  private final String ns = "sweep_" + UUID.randomUUID().toString().substring(0, 8);

  JdbcMetadataSweepIT(QuiverServerProcess server) {
    this.server = server;
  }

  @Test
  void everyNoArgumentDatabaseMetaDataMethodAnswers() throws Exception {
    List<String> failures = new ArrayList<>();
    int called = 0;
    try (Connection connection = SqlJdbcIT.connect(server, "")) {
      DatabaseMetaData meta = connection.getMetaData();
      Method[] methods = DatabaseMetaData.class.getMethods();
      Arrays.sort(methods, Comparator.comparing(Method::getName));
      for (Method method : methods) {
        if (method.getParameterCount() != 0
            || Modifier.isStatic(method.getModifiers())
            || method.getDeclaringClass() != DatabaseMetaData.class) {
          continue;
        }
        called++;
        try {
          Object result = method.invoke(meta);
          if (result instanceof ResultSet rows) {
            try (rows) {
              while (rows.next()) {
                // read through: the driver converts lazily
              }
            }
          }
        } catch (InvocationTargetException e) {
          failures.add(method.getName() + ": " + e.getCause());
        }
      }
    }
    assertThat(called).isGreaterThanOrEqualTo(100);
    assertThat(failures).as("DatabaseMetaData methods that threw, of %d", called).isEmpty();
  }

  /**
   * Quiver tables have no keys: the key listings are empty. The server sends each with the Flight
   * SQL schema (checked with Arrow's FlightSqlClient); driver 18.3 itself drops empty results,
   * columns included (its FlightEndpointDataQueue skips streams without a non-empty batch), so a
   * JDBC caller sees an empty result set with no columns, never an error.
   */
  @Test
  void keyListingsAreEmptyWithTheirColumns(BufferAllocator allocator) throws Exception {
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, FlightDescriptor.path(ns, "t"), 0, 3);
      FlightSqlClient sql = new FlightSqlClient(client);
      TableRef table = TableRef.of("quiver", ns, "t");
      for (FlightInfo info :
          List.of(
              sql.getPrimaryKeys(table),
              sql.getImportedKeys(table),
              sql.getExportedKeys(table),
              sql.getCrossReference(table, table))) {
        try (FlightStream stream = client.getStream(info.getEndpoints().get(0).getTicket())) {
          assertThat(stream.getSchema().getFields())
              .extracting(Field::getName)
              .containsAnyOf("column_name", "pk_column_name");
          long rows = 0;
          while (stream.next()) {
            rows += stream.getRoot().getRowCount();
          }
          assertThat(rows).isZero();
        }
      }
    }
    try (Connection connection = SqlJdbcIT.connect(server, "")) {
      DatabaseMetaData meta = connection.getMetaData();
      for (ResultSet keys :
          List.of(
              meta.getPrimaryKeys("quiver", ns, "t"),
              meta.getImportedKeys("quiver", ns, "t"),
              meta.getExportedKeys("quiver", ns, "t"),
              meta.getCrossReference("quiver", ns, "t", "quiver", ns, "t"))) {
        try (keys) {
          assertThat(keys.next()).isFalse();
        }
      }
    }
  }
}
