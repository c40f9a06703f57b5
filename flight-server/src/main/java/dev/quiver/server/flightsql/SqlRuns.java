package dev.quiver.server.flightsql;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.server.sql.SqlQuery;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The SQL queries running now, by run id, so CancelFlightInfo can stop one; and the ids cancelled
 * before their DoGet came, so that DoGet fails instead of running.
 */
@ThreadSafe
final class SqlRuns {
  private static final int REMEMBERED_CANCELS = 1_000;

  private final Map<String, Run> running = new ConcurrentHashMap<>();

  // Oldest first.
  @GuardedBy("cancelledEarly")
  private final Map<String, Boolean> cancelledEarly = new LinkedHashMap<>();

  /** One query run: cancellable before its query exists, while it runs and after. */
  static final class Run {
    private volatile SqlQuery query;
    private volatile boolean cancelled;

    /** Hands the run its query; a run already cancelled cancels it at once. */
    void attach(SqlQuery query) {
      this.query = query;
      if (cancelled) {
        query.cancel();
      }
    }

    void cancel() {
      cancelled = true;
      SqlQuery current = query;
      if (current != null) {
        current.cancel();
      }
    }

    boolean isCancelled() {
      return cancelled;
    }
  }

  /** Registers a run under {@code id}; cancelled at once if CancelFlightInfo named it before. */
  Run start(String id) {
    Run run = new Run();
    synchronized (cancelledEarly) {
      if (cancelledEarly.remove(id) != null) {
        run.cancel();
      }
    }
    running.put(id, run);
    return run;
  }

  void finish(String id) {
    running.remove(id);
  }

  /** Cancels the run {@code id}; true if it was running. */
  boolean cancel(String id) {
    Run run = running.get(id);
    if (run != null) {
      run.cancel();
      return true;
    }
    synchronized (cancelledEarly) {
      cancelledEarly.put(id, Boolean.TRUE);
      if (cancelledEarly.size() > REMEMBERED_CANCELS) {
        cancelledEarly.remove(cancelledEarly.keySet().iterator().next());
      }
    }
    return false;
  }
}
