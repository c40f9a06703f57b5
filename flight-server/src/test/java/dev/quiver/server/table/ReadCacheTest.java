package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read cache over a "remote" folder read through LocalFileIO: pins, LRU, sizes, restarts. */
class ReadCacheTest {
  @TempDir Path remote;
  @TempDir Path cacheDir;

  private final LocalFileIO io = new LocalFileIO();

  @Test
  void aSecondReadIsAHitAndReadsTheSameBytes() throws Exception {
    ReadCache cache = new ReadCache(cacheDir, 1000);
    ReadCache.RemoteFile a = file("a.parquet", 100);
    try (LocalFiles first = cache.pin(io, List.of(a))) {
      assertThat(Files.readAllBytes(first.paths().get(0)))
          .isEqualTo(Files.readAllBytes(remote.resolve("a.parquet")));
    }
    try (LocalFiles second = cache.pin(io, List.of(a))) {
      assertThat(second.paths().get(0).getParent()).isEqualTo(cacheDir.toAbsolutePath());
    }
    assertThat(cache.stats()).isEqualTo(new ReadCache.Stats(1, 1, 100, 0, 100, 1));
  }

  @Test
  void leastRecentlyUsedUnpinnedCopiesGoAndPinnedOnesStay() throws Exception {
    ReadCache cache = new ReadCache(cacheDir, 250);
    ReadCache.RemoteFile a = file("a.parquet", 100);
    ReadCache.RemoteFile b = file("b.parquet", 100);
    ReadCache.RemoteFile c = file("c.parquet", 100);
    try (LocalFiles pinned = cache.pin(io, List.of(a))) {
      cache.pin(io, List.of(b)).close();
      cache.pin(io, List.of(c)).close();
      // 300 bytes > 250: b, the least recently used unpinned copy, went; a is pinned.
      assertThat(pinned.paths().get(0)).exists();
      assertThat(cache.stats().evictions()).isEqualTo(1);
      assertThat(cache.stats().cachedBytes()).isEqualTo(200);
      try (LocalFiles again = cache.pin(io, List.of(b))) {
        // Fetched again: now a (pinned) and b (pinned) and c: c goes, still over by nothing.
        assertThat(again.paths().get(0)).exists();
        assertThat(pinned.paths().get(0)).exists();
      }
    }
    assertThat(cache.stats().misses()).isEqualTo(4);
    assertThat(cache.stats().cachedBytes()).isLessThanOrEqualTo(250);
  }

  @Test
  void pinnedCopiesStayEvenPastTheBoundUntilReleased() throws Exception {
    ReadCache cache = new ReadCache(cacheDir, 1);
    ReadCache.RemoteFile a = file("a.parquet", 100);
    ReadCache.RemoteFile b = file("b.parquet", 100);
    LocalFiles both = cache.pin(io, List.of(a, b));
    assertThat(both.paths()).allSatisfy(p -> assertThat(p).exists());
    assertThat(cache.stats().cachedBytes()).isEqualTo(200);
    both.close();
    both.close(); // a second close does nothing
    assertThat(cache.stats().cachedBytes()).isZero();
    assertThat(both.paths()).allSatisfy(p -> assertThat(p).doesNotExist());
    assertThat(cache.stats().evictions()).isEqualTo(2);
  }

  @Test
  void aFileWhoseSizeDiffersFromTheManifestFailsAndCachesNothing() throws Exception {
    ReadCache cache = new ReadCache(cacheDir, 1000);
    file("a.parquet", 100);
    ReadCache.RemoteFile wrong =
        new ReadCache.RemoteFile(LocalFileIO.toLocation(remote.resolve("a.parquet")), 99);
    assertThatThrownBy(() -> cache.pin(io, List.of(wrong)))
        .isInstanceOfSatisfying(
            QuiverException.class, e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAVAILABLE))
        .hasMessageContaining("Cannot fetch data file " + wrong.location())
        .hasMessageContaining("fetched 100 bytes, the table's manifest says 99");
    assertThat(cache.stats().cachedBytes()).isZero();
    try (Stream<Path> left = Files.list(cacheDir)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void concurrentReadsOfAMissingFileFetchItOnce() throws Exception {
    ReadCache cache = new ReadCache(cacheDir, 10_000_000);
    ReadCache.RemoteFile big = file("big.parquet", 4_000_000);
    List<CompletableFuture<LocalFiles>> reads =
        Stream.generate(() -> CompletableFuture.supplyAsync(() -> cache.pin(io, List.of(big))))
            .limit(4)
            .toList();
    for (CompletableFuture<LocalFiles> read : reads) {
      read.get(30, TimeUnit.SECONDS).close();
    }
    assertThat(cache.stats().misses()).isEqualTo(1);
    assertThat(cache.stats().hits()).isEqualTo(3);
    assertThat(cache.stats().fetchedBytes()).isEqualTo(4_000_000);
  }

  @Test
  void copiesOfAnEarlierRunAreAdoptedAndPartialFetchesDeleted() throws Exception {
    ReadCache.RemoteFile a = file("a.parquet", 100);
    try (LocalFiles files = new ReadCache(cacheDir, 1000).pin(io, List.of(a))) {
      assertThat(files.paths()).hasSize(1);
    }
    Files.write(cacheDir.resolve("0123.partial-7"), new byte[10]);
    ReadCache restarted = new ReadCache(cacheDir, 1000);
    assertThat(cacheDir.resolve("0123.partial-7")).doesNotExist();
    assertThat(restarted.stats().cachedBytes()).isEqualTo(100);
    restarted.pin(io, List.of(a)).close();
    assertThat(restarted.stats().hits()).isEqualTo(1);
    assertThat(restarted.stats().misses()).isZero();
  }

  private ReadCache.RemoteFile file(String name, int bytes) throws Exception {
    byte[] content = new byte[bytes];
    for (int i = 0; i < bytes; i++) {
      content[i] = (byte) (i * 31 + name.hashCode());
    }
    Path path = Files.write(remote.resolve(name), content);
    return new ReadCache.RemoteFile(LocalFileIO.toLocation(path), bytes);
  }
}
