package dev.quiver.server.telemetry;

import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Path;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Base of the tests that run a {@link TelemetryFixture} per test; checks Arrow memory leaks. */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(180)
abstract class TelemetryServerTest {
  @TempDir Path dataDir;
  TelemetryFixture fixture;

  /** Server flags beyond the fixture's; none by default. */
  Map<String, String> serverFlags() {
    return Map.of();
  }

  @BeforeEach
  void startServer(BufferAllocator allocator) throws Exception {
    fixture = new TelemetryFixture(allocator, dataDir, serverFlags());
  }

  @AfterEach
  void stopServer() throws Exception {
    fixture.close();
  }
}
