package dev.quiver.server.table;

import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.metrics.CommitReport;
import org.apache.iceberg.metrics.MetricsReport;
import org.apache.iceberg.metrics.MetricsReporter;

/**
 * How many attempts one commit took, from the commit itself: Iceberg reports a {@link CommitReport}
 * to the table's reporter when a commit succeeds, with the attempts its optimistic retries made.
 *
 * <p>One capture per commit; the report arrives on the committing thread.
 */
final class CommitCapture implements MetricsReporter {
  private volatile CommitReport report;

  /** {@code table} with this capture as its reporter (same operations, same metadata). */
  Table reporting(Table table) {
    if (!(table instanceof HasTableOperations ops)) {
      return table;
    }
    return new BaseTable(ops.operations(), table.name(), this);
  }

  @Override
  public void report(MetricsReport metrics) {
    if (metrics instanceof CommitReport commit) {
      report = commit;
    }
  }

  /** Counts the commit in {@code stats}: one attempt when Iceberg sent no report. */
  void count(CommitStats stats) {
    CommitReport commit = report;
    stats.committed(
        commit == null || commit.commitMetrics().attempts() == null
            ? 1
            : commit.commitMetrics().attempts().value());
  }
}
