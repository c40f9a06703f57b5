package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * DoGet of a 10M-row table (ten 1M-row files) without deletes, then with 1% position deletes (every
 * 100th row of every file). Run with {@code -Dquiver.bench=true}; figures go to stdout and
 * docs/architecture.md.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@EnabledIfSystemProperty(named = "quiver.bench", matches = "true")
class DeleteScanBench {
  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");
  private static final int FILES = 10;
  private static final int ROWS = 1_000_000;
  // Every how many rows one is deleted: 100 (1%) unless -Dquiver.bench.delete-every says.
  private static final int EVERY = Integer.getInteger("quiver.bench.delete-every", 100);

  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dataDir;

  @Test
  void doGetWithoutAndWithOnePercentPositionDeletes(BufferAllocator allocator) throws Exception {
    QuiverServer server = servers.start(dataDir, "memory.total", "1GB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.local(dataDir)) {
      for (int i = 0; i < FILES; i++) {
        IdTable.put(client, allocator, TABLE, (long) i * ROWS, ROWS);
      }
      report("no deletes", client, (long) FILES * ROWS);
      Table table = other.table("ns", "t");
      List<DataFile> files = OtherEngine.dataFiles(table);
      StringBuilder query = new StringBuilder();
      for (DataFile file : files) {
        query
            .append(query.length() == 0 ? "" : " UNION ALL ")
            .append("SELECT '")
            .append(file.location())
            .append("' AS file_path, range * ")
            .append(EVERY)
            .append(" AS pos FROM range(")
            .append(file.recordCount() / EVERY)
            .append(")");
      }
      other.deletePositions(
          table, "SELECT * FROM (" + query + ") ORDER BY file_path, pos", FILES * ROWS / EVERY);
      report(
          "position deletes of 1 row in " + EVERY,
          client,
          (long) FILES * ROWS - FILES * ROWS / EVERY);
    }
  }

  private static void report(String what, FlightClient client, long expectedRows) throws Exception {
    for (int run = 0; run < 3; run++) {
      long start = System.nanoTime();
      FlightInfo info = client.getInfo(TABLE);
      long rows = 0;
      for (FlightEndpoint endpoint : info.getEndpoints()) {
        try (FlightStream stream = client.getStream(endpoint.getTicket())) {
          while (stream.next()) {
            rows += stream.getRoot().getRowCount();
          }
        }
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertThat(rows).isEqualTo(expectedRows);
      System.out.printf(
          "DeleteScanBench %s run %d: %d rows in %d ms, %.1f M rows/s%n",
          what, run, rows, ms, rows / 1000.0 / Math.max(1, ms));
    }
  }
}
