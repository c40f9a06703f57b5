package dev.quiver.benchmarks.harness;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * {@code quiver-bench}: the Flight benchmark harness's command line. Measures DoGet, DoPut or
 * Flight SQL against any Flight server ({@code run}, the default), compares a result with a
 * baseline ({@code compare}) and draws the trend of saved results ({@code trend}).
 *
 * <p>Exit codes: 0 done, 1 a regression was found, 2 bad arguments, 3 the server does not support
 * what was asked (UNIMPLEMENTED), 4 the run failed.
 */
public final class QuiverBench {
  static final int OK = 0;
  static final int REGRESSION = 1;
  static final int USAGE = 2;
  static final int UNSUPPORTED = 3;
  static final int FAILED = 4;

  private QuiverBench() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args), System.out, System.err));
  }

  /** Runs a command line, printing to {@code out} and {@code err}; returns the exit code. */
  static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.contains("--help") || args.contains("-h")) {
      out.print(BenchOptions.usage());
      return OK;
    }
    String command = args.isEmpty() || args.get(0).startsWith("--") ? "run" : args.get(0);
    List<String> rest = args.isEmpty() || command.equals(args.get(0)) ? tail(args) : args;
    try {
      return switch (command) {
        case "run" -> measure(BenchOptions.parse(rest), out, err);
        case "compare" -> Regression.run(rest, out);
        case "trend" -> TrendReport.run(rest, out);
        default -> throw new IllegalArgumentException("Unknown command " + command);
      };
    } catch (IllegalArgumentException e) {
      err.println("quiver-bench: " + e.getMessage());
      return USAGE;
    }
  }

  private static List<String> tail(List<String> args) {
    return args.isEmpty() ? args : args.subList(1, args.size());
  }

  private static int measure(BenchOptions options, PrintStream out, PrintStream err) {
    if (options.compression() != BenchOptions.Compression.NONE) {
      // Arrow Java 18.3's Flight writes batches with VectorUnloader's no-op codec and reads them
      // with VectorLoader's default factory, which refuses compressed bodies.
      err.println(
          "quiver-bench: --compression "
              + BenchOptions.name(options.compression())
              + " is not available from Java: Arrow Java 18.3 Flight neither writes nor reads"
              + " compressed IPC bodies. Measure compression with a pyarrow client"
              + " (IpcWriteOptions(compression=...)).");
      return UNSUPPORTED;
    }
    try (BufferAllocator allocator = new RootAllocator()) {
      boolean bar = options.progress() && System.console() != null;
      BenchReport report = measure(options, allocator, bar ? err : null);
      out.print(report.toText());
      if (options.jsonOut().isPresent()) {
        Path file = options.jsonOut().get();
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(file, report.toJson(), StandardCharsets.UTF_8);
        out.println("JSON: " + file);
      }
      return OK;
    } catch (FlightRuntimeException e) {
      if (e.status().code() == FlightStatusCode.UNIMPLEMENTED) {
        err.printf(
            "quiver-bench: the server does not support --mode %s (UNIMPLEMENTED: %s)%n",
            BenchOptions.name(options.mode()), e.getMessage());
        return UNSUPPORTED;
      }
      err.println("quiver-bench: " + e.status().code() + ": " + e.getMessage());
      return FAILED;
    } catch (Exception e) {
      err.println("quiver-bench: the run failed: " + e);
      return FAILED;
    }
  }

  /**
   * Connects, loads the table (get and sql modes, unless told not to), runs the warm-up and the
   * measured runs, and asks a Quiver server for its peak memory.
   *
   * @param progress where to draw a progress bar, or null for none
   */
  public static BenchReport measure(
      BenchOptions options, BufferAllocator allocator, PrintStream progress) throws Exception {
    requireNonNull(options, "options is null");
    try (BufferAllocator child = allocator.newChildAllocator("quiver-bench", 0, Long.MAX_VALUE);
        BenchClient client = BenchClient.connect(child, options);
        Workload workload = new Workload(options, client, child);
        Progress bar = Progress.start(progress != null, progress, workload::rowsDone)) {
      boolean loads =
          options.load() && options.mode() != BenchOptions.Mode.PUT && options.ticket().isEmpty();
      if (loads) {
        phase(bar, "load", options.recordsPerStream());
        workload.load();
      }
      List<RunResult> runs = new ArrayList<>();
      Instant started = null;
      for (int i = 0; i < options.warmup() + options.runs(); i++) {
        boolean warm = i < options.warmup();
        phase(bar, warm ? "warm-up" : "run " + (i - options.warmup() + 1), options.rowsPerRun());
        if (!warm && started == null) {
          started = Instant.now();
        }
        RunResult result = workload.run(i);
        workload.cleanUp(i);
        if (!warm) {
          runs.add(result);
        }
      }
      Optional<Long> peak = client.serverPeakMemory();
      return new BenchReport(
          started,
          BenchReport.currentCommit(),
          BenchReport.thisMachine(),
          options.describe(),
          client.hasMemoryReport() ? "quiver" : "flight",
          peak,
          runs);
    }
  }

  private static void phase(Progress bar, String name, long rows) {
    if (bar != null) {
      bar.phase(name, rows);
    }
  }
}
