package dev.quiver.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/** Teardown helpers the benchmarks share. */
final class BenchmarkResources {
  private BenchmarkResources() {}

  /**
   * Closes {@code resources} in order (nulls skipped), then fails if {@code root} still holds Arrow
   * memory; closes {@code root} (if not null) on every path.
   */
  static void closeThenCheckLeaks(BufferAllocator root, AutoCloseable... resources)
      throws Exception {
    try {
      AutoCloseables.close(resources);
      if (root != null && root.getAllocatedMemory() != 0) {
        throw new IllegalStateException("Arrow memory leaked:\n" + root.toVerboseString());
      }
    } finally {
      if (root != null) {
        root.close();
      }
    }
  }

  /** Deletes {@code path} and everything under it; nothing when it does not exist. */
  static void deleteRecursively(Path path) throws IOException {
    if (path == null || !Files.exists(path)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(path)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
