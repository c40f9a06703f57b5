package dev.quiver.server.telemetry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time of Java threads, from the JVM's {@link ThreadMXBean}: user plus system time the thread
 * spent on a core, including native code it ran (DuckDB's JNI on the calling thread, Netty's native
 * transport), but not work it handed to other threads. Where the JVM does not measure thread CPU
 * time (or it was switched off), every figure is 0.
 */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final boolean SUPPORTED =
      THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeSupported();

  private ThreadCpu() {}

  /** The calling thread's CPU time so far, in nanoseconds; 0 when not measured. */
  static long current() {
    return SUPPORTED ? Math.max(0, THREADS.getCurrentThreadCpuTime()) : 0;
  }

  /** {@code thread}'s CPU time so far, in nanoseconds; -1 when not measured or it has ended. */
  static long of(Thread thread) {
    // Thread.getId: release 17 (threadId() is Java 19).
    return SUPPORTED ? THREADS.getThreadCpuTime(thread.getId()) : -1;
  }
}
