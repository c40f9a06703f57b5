package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.maintenance.MaintenanceTask;
import dev.quiver.server.table.S3ProxyExtension;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance of a table in S3 (s3proxy): compaction reads the small files through the read cache
 * and uploads the new one; expiry deletes the objects only expired snapshots reached.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class S3MaintenanceTest {
  @RegisterExtension static final S3ProxyExtension S3 = new S3ProxyExtension();

  private static final FlightDescriptor TABLE = FlightDescriptor.path("ns", "t");

  @TempDir Path dataDir;

  @Test
  void compactionAndExpiryWorkOnObjects(BufferAllocator allocator) throws Exception {
    List<String> settings = new ArrayList<>(List.of(S3.settings("maint")));
    settings.addAll(List.of("memory.total", "256MB", "maintenance.compact-min-files", "4"));
    try (QuiverServer server = TestServers.start(dataDir, settings.toArray(String[]::new));
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int i = 0; i < 12; i++) {
        IdTable.put(client, allocator, TABLE, i * 10L, 10);
      }
      assertThat(dataObjects()).hasSize(12);

      MaintenanceTask.RunReport compacted = server.maintenance().runOnce(Instant.now());
      assertThat(compacted.errors()).isZero();
      assertThat(compacted.filesCompacted()).isEqualTo(12);
      assertThat(dataObjects()).as("the replaced objects stay while young").hasSize(13);
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(120));

      for (int i = 12; i < 22; i++) {
        IdTable.put(client, allocator, TABLE, i * 10L, 10);
      }
      MaintenanceTask.RunReport expired =
          server.maintenance().runOnce(Instant.now().plus(Duration.ofMinutes(16)));
      assertThat(expired.errors()).isZero();
      assertThat(expired.filesCompacted())
          .as("the 10 new small files and the first compacted one, small too")
          .isEqualTo(11);
      // 24 snapshots (22 puts, 2 compactions); the last 10 are kept.
      assertThat(expired.snapshotsExpired()).isEqualTo(14);
      assertThat(expired.bytesDeleted()).isPositive();
      assertThat(IdTable.sumOfIds(client, TABLE)).isEqualTo(IdTable.sum(220));
      // Left: both compacted objects and the 10 small ones the kept snapshots still reach; the 12
      // first small objects are gone.
      assertThat(dataObjects()).hasSize(12);
    }
  }

  private static List<String> dataObjects() throws Exception {
    return S3.keys("maint/ns/").stream().filter(k -> k.endsWith(".parquet")).toList();
  }
}
