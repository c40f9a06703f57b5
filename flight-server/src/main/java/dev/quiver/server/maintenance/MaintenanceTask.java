package dev.quiver.server.maintenance;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.config.MaintenanceSettings;
import dev.quiver.server.table.ExpiryReport;
import dev.quiver.server.table.IcebergTableStore;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background maintenance policy: every {@code maintenance.interval}, compacts each table that
 * has {@code maintenance.compact-min-files} small files, then expires its snapshots that stopped
 * being current more than {@code maintenance.expire-after} ago, keeping the last {@code
 * maintenance.retain-last}.
 *
 * <p>Runs on one daemon thread. A failing table is logged and counted and the run goes on to the
 * next; the next run retries it. {@link #close()} lets a running table finish (bounded) and stops;
 * a second close does nothing.
 */
@ThreadSafe
public final class MaintenanceTask implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceTask.class);
  private static final long STOP_SECONDS = 10;

  /**
   * What one run did.
   *
   * @param tables tables visited
   * @param tablesCompacted tables whose small files were rewritten
   * @param filesCompacted small files replaced by compaction
   * @param snapshotsExpired snapshots expired over all of them
   * @param filesDeleted files deleted (manifests, manifest lists, data files)
   * @param bytesDeleted their bytes
   * @param errors tables whose maintenance failed (logged; retried next run)
   */
  public record RunReport(
      int tables,
      int tablesCompacted,
      long filesCompacted,
      long snapshotsExpired,
      long filesDeleted,
      long bytesDeleted,
      int errors) {}

  private final IcebergTableStore store;
  private final TableCompactor compactor;
  private final MaintenanceSettings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler; // null when the policy is off
  private final AtomicBoolean closed = new AtomicBoolean();

  private final LongCounter runsCounter;
  private final LongCounter errorsCounter;
  private final LongCounter expiredCounter;
  private final LongCounter filesCounter;
  private final LongCounter bytesCounter;
  private final LongCounter compactedCounter;

  // Running totals, for tests and the logs.
  private final LongAdder runs = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder expired = new LongAdder();
  private final LongAdder compacted = new LongAdder();
  private final AtomicReference<LastRun> last = new AtomicReference<>();

  /** The most recent run: when it ended and what it did. */
  private record LastRun(Instant endedAt, long millis, RunReport report) {}

  private MaintenanceTask(
      IcebergTableStore store,
      TableCompactor compactor,
      MaintenanceSettings settings,
      Meter meter,
      Clock clock,
      ScheduledExecutorService scheduler) {
    this.store = store;
    this.compactor = compactor;
    this.settings = settings;
    this.clock = clock;
    this.scheduler = scheduler;
    runsCounter = counter(meter, "quiver.maintenance.runs", "{run}", "Maintenance runs done");
    errorsCounter =
        counter(
            meter,
            "quiver.maintenance.errors",
            "{table}",
            "Tables whose maintenance failed in a run (retried next run)");
    expiredCounter =
        counter(
            meter,
            "quiver.maintenance.snapshots.expired",
            "{snapshot}",
            "Snapshots expired by maintenance");
    filesCounter =
        counter(
            meter,
            "quiver.maintenance.files.deleted",
            "{file}",
            "Files deleted by snapshot expiry (manifests, manifest lists, data files)");
    bytesCounter =
        counter(meter, "quiver.maintenance.deleted", "By", "Bytes deleted by snapshot expiry");
    compactedCounter =
        counter(
            meter,
            "quiver.maintenance.files.compacted",
            "{file}",
            "Small data files replaced by compaction");
  }

  /**
   * Starts the policy on {@code store} (a task that never runs by itself when {@code settings} has
   * it off), compacting with {@code compactor} and recording its metrics with {@code meter}; the
   * caller closes it before the store and the SQL engine.
   */
  public static MaintenanceTask start(
      IcebergTableStore store,
      TableCompactor compactor,
      MaintenanceSettings settings,
      Meter meter) {
    requireNonNull(store, "store is null");
    requireNonNull(compactor, "compactor is null");
    requireNonNull(settings, "settings is null");
    if (!settings.enabled()) {
      return new MaintenanceTask(store, compactor, settings, meter, Clock.systemUTC(), null);
    }
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "quiver-maintenance");
              t.setDaemon(true);
              return t;
            });
    MaintenanceTask task =
        new MaintenanceTask(store, compactor, settings, meter, Clock.systemUTC(), scheduler);
    long every = settings.interval().toMillis();
    scheduler.scheduleWithFixedDelay(task::runScheduled, every, every, TimeUnit.MILLISECONDS);
    return task;
  }

  /**
   * Runs the policy once over every table, as if the time were {@code now} (tests pass a later
   * instant to age the snapshots). Safe alongside a scheduled run: expiries of one store are
   * serialised.
   */
  public RunReport runOnce(Instant now) {
    long started = System.nanoTime();
    Instant olderThan = now.minus(settings.expireAfter());
    List<TableId> tables = store.list(Optional.empty());
    int visited = 0;
    int failed = 0;
    int compactedTables = 0;
    long compactedFiles = 0;
    long snapshots = 0;
    long files = 0;
    long bytes = 0;
    for (TableId id : tables) {
      if (closed.get()) {
        break;
      }
      visited++;
      int stepsFailed = 0;
      if (settings.compactMinFiles() > 0) {
        try {
          CompactionReport compaction = compactor.compact(id, settings.compactMinFiles());
          if (compaction.filesRewritten() > 0) {
            compactedTables++;
            compactedFiles += compaction.filesRewritten();
            LOG.info(
                "Maintenance: table {} compacted {} small files ({} bytes) into {} ({} bytes)",
                id,
                compaction.filesRewritten(),
                compaction.bytesRewritten(),
                compaction.filesAdded(),
                compaction.bytesAdded());
          }
        } catch (IOException | RuntimeException e) {
          stepsFailed += failure(id, "Compaction", e);
        }
      }
      try {
        ExpiryReport report = store.expireSnapshots(id, olderThan, settings.retainLast());
        snapshots += report.snapshotsExpired();
        files += report.filesDeleted();
        bytes += report.bytesDeleted();
        if (report.snapshotsExpired() > 0) {
          LOG.info(
              "Maintenance: table {} expired {} snapshots (kept {}), deleted {} files, {} bytes",
              id,
              report.snapshotsExpired(),
              report.snapshotsKept(),
              report.filesDeleted(),
              report.bytesDeleted());
        }
      } catch (RuntimeException e) {
        stepsFailed += failure(id, "Snapshot expiry", e);
      }
      failed += Math.min(1, stepsFailed);
    }
    runs.increment();
    runsCounter.add(1);
    errors.add(failed);
    errorsCounter.add(failed);
    expired.add(snapshots);
    expiredCounter.add(snapshots);
    filesCounter.add(files);
    bytesCounter.add(bytes);
    compactedCounter.add(compactedFiles);
    compacted.add(compactedFiles);
    RunReport report =
        new RunReport(visited, compactedTables, compactedFiles, snapshots, files, bytes, failed);
    last.set(new LastRun(clock.instant(), (System.nanoTime() - started) / 1_000_000, report));
    return report;
  }

  /**
   * Logs a table's failed maintenance step; 1 when it counts as an error, 0 when the table was
   * dropped meanwhile or is not one this step can handle (another engine's with a column type
   * Quiver cannot read, say).
   */
  private static int failure(TableId id, String step, Exception e) {
    if (e instanceof QuiverException q
        && (q.code() == QuiverErrorCode.TABLE_NOT_FOUND
            || q.code() == QuiverErrorCode.UNSUPPORTED_OPERATION
            || q.code() == QuiverErrorCode.UNSUPPORTED_TYPE)) {
      LOG.debug("Maintenance: {} skipped table {}: {}", step, id, e.getMessage());
      return 0;
    }
    LOG.warn("Maintenance: {} of table {} failed; the next run retries it", step, id, e);
    return 1;
  }

  /** Runs done so far. */
  public long runs() {
    return runs.sum();
  }

  /** Tables whose maintenance failed so far, over all runs. */
  public long errors() {
    return errors.sum();
  }

  /** Snapshots expired so far, over all runs. */
  public long snapshotsExpired() {
    return expired.sum();
  }

  /**
   * The policy and its work so far, for the status page: whether it runs and how often, the totals
   * over all runs, and the last run.
   */
  public Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("enabled", scheduler != null);
    out.put("interval_ms", settings.interval().toMillis());
    out.put("runs", runs.sum());
    out.put("errors", errors.sum());
    out.put("snapshots_expired", expired.sum());
    out.put("files_compacted", compacted.sum());
    LastRun run = last.get();
    if (run != null) {
      Map<String, Object> lastRun = new LinkedHashMap<>();
      lastRun.put("ended_at_ms", run.endedAt().toEpochMilli());
      lastRun.put("duration_ms", run.millis());
      lastRun.put("tables", run.report().tables());
      lastRun.put("tables_compacted", run.report().tablesCompacted());
      lastRun.put("files_compacted", run.report().filesCompacted());
      lastRun.put("snapshots_expired", run.report().snapshotsExpired());
      lastRun.put("files_deleted", run.report().filesDeleted());
      lastRun.put("bytes_deleted", run.report().bytesDeleted());
      lastRun.put("errors", run.report().errors());
      out.put("last_run", lastRun);
    }
    return out;
  }

  private void runScheduled() {
    try {
      runOnce(clock.instant());
    } catch (RuntimeException e) {
      // Listing the tables failed (the catalog is busy, say). The executor would drop a task that
      // throws, so catch everything: the next run retries.
      errors.increment();
      errorsCounter.add(1);
      LOG.warn("Maintenance run failed; the next run retries", e);
    }
  }

  private static LongCounter counter(Meter meter, String name, String unit, String description) {
    LongCounter counter =
        meter.counterBuilder(name).setUnit(unit).setDescription(description).build();
    counter.add(0);
    return counter;
  }

  @Override
  public void close() throws InterruptedException {
    if (!closed.compareAndSet(false, true) || scheduler == null) {
      return;
    }
    scheduler.shutdown();
    if (!scheduler.awaitTermination(STOP_SECONDS, TimeUnit.SECONDS)) {
      LOG.warn("Maintenance still running {} s after close; interrupting it", STOP_SECONDS);
      scheduler.shutdownNow();
    }
  }
}
