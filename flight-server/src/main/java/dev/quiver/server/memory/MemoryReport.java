package dev.quiver.server.memory;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.config.DataSize;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A point-in-time picture of the server's Arrow memory: limits, use, the admission queue, every
 * live call and the calls that recently hit a limit, with advice derived from them.
 *
 * @param at when the report was taken
 * @param total {@code memory.total} in bytes
 * @param queryLimit {@code memory.query-limit} in bytes
 * @param callReservation {@code memory.call-reservation} in bytes
 * @param transportReserve {@code memory.transport-reserve} in bytes
 * @param transportAllocated bytes Flight's transport holds now (incoming batches not yet taken)
 * @param allocated bytes in use now: calls (their admission reservations included) and transport
 * @param peak the most bytes calls held at once, plus transport decoding beyond its reserve (see
 *     {@link MemoryGovernor#peak()})
 * @param queued calls waiting for admission now
 * @param waits calls that have had to wait for admission since the start
 * @param refused calls refused admission (queue full or timed out) since the start
 * @param calls every call holding an allocator now, oldest first
 * @param recentHits the last calls that hit a limit, oldest first
 */
public record MemoryReport(
    Instant at,
    long total,
    long queryLimit,
    long callReservation,
    long transportReserve,
    long transportAllocated,
    long allocated,
    long peak,
    int queued,
    long waits,
    long refused,
    List<CallUsage> calls,
    List<LimitHit> recentHits) {

  /** Recommendations look at the limit hits of this last stretch of time. */
  public static final Duration ADVICE_WINDOW = Duration.ofHours(1);

  public MemoryReport {
    requireNonNull(at, "at is null");
    calls = List.copyOf(calls);
    recentHits = List.copyOf(recentHits);
  }

  /** Allocated over {@link #total}, between 0 and 1. */
  public double pressure() {
    return total == 0 ? 0 : (double) allocated / total;
  }

  /** Plain-language advice from the limit hits of the last {@link #ADVICE_WINDOW}, and pressure. */
  public List<String> recommendations() {
    Instant since = at.minus(ADVICE_WINDOW);
    long query = count(since, MemoryGovernor.QUERY_LIMIT_KEY);
    long server = count(since, MemoryGovernor.TOTAL_KEY);
    long timedOut = count(since, AdmissionQueue.TIMEOUT_KEY);
    long queueFull = count(since, AdmissionQueue.QUEUE_KEY);
    List<String> advice = new ArrayList<>();
    if (query > 0) {
      advice.add(
          String.format(
              Locale.ROOT,
              "%s hit memory.query-limit (%s) in the last hour; raise memory.query-limit or lower"
                  + " scan.batch-rows",
              calls(query),
              DataSize.format(queryLimit)));
    }
    if (server > 0) {
      advice.add(
          String.format(
              Locale.ROOT,
              "%s ran out of server memory (memory.total, %s) in the last hour; raise memory.total"
                  + " or lower memory.query-limit",
              calls(server),
              DataSize.format(total)));
    }
    if (timedOut > 0) {
      advice.add(
          String.format(
              Locale.ROOT,
              "%s waited past memory.admission-timeout for memory in the last hour; raise"
                  + " memory.total, or run fewer calls at once",
              calls(timedOut)));
    }
    if (queueFull > 0) {
      advice.add(
          String.format(
              Locale.ROOT,
              "%s found the admission queue full (memory.admission-queue) in the last hour; raise"
                  + " memory.admission-queue or memory.total",
              calls(queueFull)));
    }
    if (pressure() >= 0.9) {
      advice.add(
          String.format(
              Locale.ROOT,
              "Arrow memory is %.0f%% used (%s of %s); new calls will queue for admission",
              pressure() * 100,
              DataSize.format(allocated),
              DataSize.format(total)));
    }
    if (advice.isEmpty()) {
      advice.add("No memory limit was hit in the last hour; nothing to change");
    }
    return List.copyOf(advice);
  }

  private long count(Instant since, String limitKey) {
    return recentHits.stream()
        .filter(h -> h.limitKey().equals(limitKey) && !h.at().isBefore(since))
        .count();
  }

  private static String calls(long n) {
    return n == 1 ? "1 call" : n + " calls";
  }

  /**
   * One live call's allocator.
   *
   * @param name the call, e.g. {@code DoGet sales.orders}
   * @param allocated bytes it holds now
   * @param peak the most it held at once
   * @param limit its cap ({@code memory.query-limit})
   * @param age how long it has been open
   * @param draining the call has ended and waits only for gRPC to let go of batches it sent
   */
  public record CallUsage(
      String name, long allocated, long peak, long limit, Duration age, boolean draining) {
    public CallUsage {
      requireNonNull(name, "name is null");
      requireNonNull(age, "age is null");
    }
  }

  /**
   * A call that hit a limit.
   *
   * @param name the call
   * @param limitKey the configuration key of the limit, e.g. {@code memory.query-limit}
   * @param limit the limit's value (bytes, or milliseconds for the admission timeout, or calls for
   *     the admission queue)
   * @param at when
   */
  public record LimitHit(String name, String limitKey, long limit, Instant at) {
    public LimitHit {
      requireNonNull(name, "name is null");
      requireNonNull(limitKey, "limitKey is null");
      requireNonNull(at, "at is null");
    }
  }
}
