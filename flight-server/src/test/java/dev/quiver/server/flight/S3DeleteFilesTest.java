package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.table.S3ProxyExtension;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Delete files in an S3 warehouse: fetched and pinned through the read cache like data files. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class S3DeleteFilesTest {
  @RegisterExtension static final S3ProxyExtension S3 = new S3ProxyExtension();
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @TempDir Path dataDir;

  @Test
  void positionAndEqualityDeletesOnS3ApplyToDoGetAndSql(BufferAllocator allocator)
      throws Exception {
    String[] settings = S3.settings("deletes");
    QuiverServer server =
        servers.start(
            dataDir,
            settings[0],
            settings[1],
            settings[2],
            settings[3],
            settings[4],
            settings[5],
            "memory.total",
            "256MB");
    try (FlightClient client = FlightClient.builder(allocator, server.location()).build();
        OtherEngine other = OtherEngine.s3(dataDir, S3, "deletes")) {
      IdTable.put(client, allocator, TABLE, 0, 1000);
      IdTable.put(client, allocator, TABLE, 1000, 1000);
      List<DataFile> files = OtherEngine.dataFiles(other.table("ns", "t"));
      assertThat(files).allMatch(f -> f.location().startsWith("s3://"));
      Table table = other.table("ns", "t");
      other.deletePositions(table, Map.of(files.get(1).location(), List.of(0L, 999L)));
      other.deleteEqual(other.table("ns", "t"), "id", List.of(3L));

      List<Long> expected = DeleteFilesTest.idsWithout(2000, 3, 1000, 1999);
      assertThat(QuiverProducerTest.readIds(client, client.getInfo(TABLE)))
          .containsExactlyElementsOf(expected);
      try (FlightSqlClient sql = new FlightSqlClient(client)) {
        assertThat(DeleteFilesTest.sqlLongs(client, sql, "SELECT count(*) AS n FROM ns.t"))
            .containsExactly(1997L);
      }
      // Two data files and two delete files went through the cache.
      assertThat(server.readCache().orElseThrow().stats().files()).isEqualTo(4);
    }
  }
}
