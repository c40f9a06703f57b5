package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The {@code memory.*} and {@code duckdb.memory-limit} part of {@link ServerConfig}: the one memory
 * budget and how calls are admitted into it. {@link ServerConfig} checks it against the SQL
 * engine's share ({@link SqlSettings#memoryLimit()}), which is carved out of the same total.
 *
 * @param total bytes of memory the server's data may take: Arrow (calls and Flight's transport,
 *     {@link ServerConfig#arrowMemory()}) plus both DuckDBs' memory limits, which are carved out of
 *     it
 * @param queryLimit bytes of Arrow memory one call may hold
 * @param callReservation bytes of Arrow memory reserved for a call before it is admitted
 * @param admissionQueue the most calls that wait for admission at once
 * @param admissionTimeout the longest a call waits for admission
 * @param transportReserve bytes of Arrow's share kept for Flight to decode incoming batches
 * @param highPressure the share of the total above which new scans get smaller batches
 * @param duckdbMemoryLimit part of the total the Parquet writer's DuckDB may use before spilling
 */
public record MemorySettings(
    long total,
    long queryLimit,
    long callReservation,
    int admissionQueue,
    Duration admissionTimeout,
    long transportReserve,
    double highPressure,
    long duckdbMemoryLimit) {
  public MemorySettings {
    requireNonNull(admissionTimeout, "admissionTimeout is null");
  }

  /**
   * These settings with the query limit at most {@code arrowMemory} (one call cannot hold more than
   * Arrow's share) and the call reservation at most the query limit.
   */
  MemorySettings boundedBy(long arrowMemory) {
    long limit = Math.min(queryLimit, arrowMemory);
    return new MemorySettings(
        total,
        limit,
        Math.min(callReservation, limit),
        admissionQueue,
        admissionTimeout,
        transportReserve,
        highPressure,
        duckdbMemoryLimit);
  }
}
