package dev.quiver.server.telemetry;

import dev.quiver.server.table.ReadCache;
import io.opentelemetry.api.metrics.Meter;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.util.AutoCloseables;

/**
 * The read cache's figures as OpenTelemetry instruments, read from {@link ReadCache#stats()} at
 * each collection. Exported names (Prometheus form): {@code quiver_read_cache_hits_total}, {@code
 * quiver_read_cache_misses_total}, {@code quiver_read_cache_fetched_bytes_total}, {@code
 * quiver_read_cache_evictions_total}, {@code quiver_read_cache_size_bytes}.
 */
public final class ReadCacheMetrics implements AutoCloseable {
  private final List<AutoCloseable> instruments = new ArrayList<>();

  private ReadCacheMetrics() {}

  /** Registers the cache's instruments with {@code meter}; close to unregister them. */
  public static ReadCacheMetrics register(Meter meter, ReadCache cache) {
    ReadCacheMetrics metrics = new ReadCacheMetrics();
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.read_cache.hits")
            .setUnit("{file}")
            .setDescription("Data file reads served from the local read cache")
            .buildWithCallback(m -> m.record(cache.stats().hits())));
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.read_cache.misses")
            .setUnit("{file}")
            .setDescription("Data file reads that fetched the file from object storage first")
            .buildWithCallback(m -> m.record(cache.stats().misses())));
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.read_cache.fetched")
            .setUnit("By")
            .setDescription("Bytes fetched from object storage into the read cache")
            .buildWithCallback(m -> m.record(cache.stats().fetchedBytes())));
    metrics.instruments.add(
        meter
            .counterBuilder("quiver.read_cache.evictions")
            .setUnit("{file}")
            .setDescription("Cached copies deleted to keep within storage.cache-size")
            .buildWithCallback(m -> m.record(cache.stats().evictions())));
    metrics.instruments.add(
        meter
            .upDownCounterBuilder("quiver.read_cache.size")
            .setUnit("By")
            .setDescription("Bytes the read cache holds on disk")
            .buildWithCallback(m -> m.record(cache.stats().cachedBytes())));
    return metrics;
  }

  @Override
  public void close() throws Exception {
    AutoCloseables.close(instruments);
  }
}
