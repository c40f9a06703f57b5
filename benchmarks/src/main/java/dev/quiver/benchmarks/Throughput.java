package dev.quiver.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What an operation moved, which JMH reports per second next to ops/s: {@code rows} is rows/s and
 * {@code megabytes} is MB/s (10^6 bytes) of Arrow buffers.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Throughput {
  /** Rows moved in this iteration. */
  public long rows;

  /** Megabytes (10^6 bytes) of Arrow buffers moved in this iteration. */
  public double megabytes;

  /** Counters are per iteration. */
  @Setup(Level.Iteration)
  public void reset() {
    rows = 0;
    megabytes = 0;
  }

  /** Counts one operation's rows and bytes. */
  void add(long rowCount, long bytes) {
    rows += rowCount;
    megabytes += bytes / 1e6;
  }
}
