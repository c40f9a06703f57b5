package dev.quiver.server.table;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the store's commits: how many succeeded, how many extra attempts Iceberg's optimistic
 * commit needed because another writer committed first, and how many puts ran out of attempts.
 * Thread-safe.
 */
public final class CommitStats {
  private final LongAdder commits = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder exhausted = new LongAdder();

  void committed(long attempts) {
    commits.increment();
    retries.add(Math.max(0, attempts - 1));
  }

  void exhausted(long attempts) {
    exhausted.increment();
    retries.add(Math.max(0, attempts - 1));
  }

  /** Commits that succeeded. */
  public long commits() {
    return commits.sum();
  }

  /** Commit attempts beyond the first: each is a race lost to another writer, then retried. */
  public long retries() {
    return retries.sum();
  }

  /** Commits that failed after the table's commit.retry.num-retries attempts. */
  public long exhausted() {
    return exhausted.sum();
  }
}
