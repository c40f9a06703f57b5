package dev.quiver.benchmarks.harness;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The results of one harness invocation: what was measured, where, on which commit, every run and
 * the summary over runs; written as text for people and as JSON for the regression and trend tools.
 *
 * @param started when the first measured run started
 * @param commit the git commit measured, or "unknown"
 * @param machine host, OS, cores, JVM and load average
 * @param config the options that define the measurement
 * @param serverKind "quiver" when the server has Quiver's memory-report, else "flight"
 * @param serverPeakMemory the server's peak Arrow memory after the runs, when it reports one
 * @param runs the measured runs, in order
 */
public record BenchReport(
    Instant started,
    String commit,
    Map<String, Object> machine,
    Map<String, Object> config,
    String serverKind,
    Optional<Long> serverPeakMemory,
    List<RunResult> runs) {

  /** The JSON format's version; readers refuse other versions. */
  public static final int FORMAT = 1;

  /**
   * The summarised figures, in report order, each with whether more is better. Names are the JSON
   * keys of {@code summary}.
   */
  public static final Map<String, Boolean> FIGURES = figures();

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public BenchReport {
    requireNonNull(started, "started is null");
    requireNonNull(commit, "commit is null");
    machine = Map.copyOf(machine);
    config = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
    requireNonNull(serverKind, "serverKind is null");
    requireNonNull(serverPeakMemory, "serverPeakMemory is null");
    runs = List.copyOf(runs);
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("A report needs at least one run");
    }
  }

  private static Map<String, Boolean> figures() {
    Map<String, Boolean> figures = new LinkedHashMap<>();
    figures.put("mb_per_s", true);
    figures.put("mib_per_s", true);
    figures.put("rows_per_s", true);
    figures.put("batches_per_s", true);
    figures.put("latency_p50_ms", false);
    figures.put("latency_p95_ms", false);
    figures.put("latency_p99_ms", false);
    figures.put("latency_max_ms", false);
    return java.util.Collections.unmodifiableMap(figures);
  }

  /** A figure of one run, by its {@link #FIGURES} name. */
  static double figure(RunResult run, String name) {
    ToDoubleFunction<RunResult> f =
        switch (name) {
          case "mb_per_s" -> RunResult::megabytesPerSecond;
          case "mib_per_s" -> RunResult::mebibytesPerSecond;
          case "rows_per_s" -> RunResult::rowsPerSecond;
          case "batches_per_s" -> RunResult::batchesPerSecond;
          case "latency_p50_ms" -> r -> r.latencyNanos().p50() / 1e6;
          case "latency_p95_ms" -> r -> r.latencyNanos().p95() / 1e6;
          case "latency_p99_ms" -> r -> r.latencyNanos().p99() / 1e6;
          case "latency_max_ms" -> r -> r.latencyNanos().max() / 1e6;
          default -> throw new IllegalArgumentException("No figure " + name);
        };
    return f.applyAsDouble(run);
  }

  /** The summary over runs of each figure. */
  public Map<String, Stats.Summary> summary() {
    Map<String, Stats.Summary> summary = new LinkedHashMap<>();
    for (String name : FIGURES.keySet()) {
      summary.put(
          name, Stats.Summary.of(runs.stream().mapToDouble(r -> figure(r, name)).toArray()));
    }
    return summary;
  }

  /** The report as JSON. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("tool", "quiver-bench");
    root.put("started", started.toString());
    root.put("commit", commit);
    root.set("machine", JSON.valueToTree(machine));
    root.set("config", JSON.valueToTree(config));
    ObjectNode server = root.putObject("server");
    server.put("kind", serverKind);
    serverPeakMemory.ifPresent(peak -> server.put("peak_memory_bytes", peak));
    var runArray = root.putArray("runs");
    for (RunResult run : runs) {
      ObjectNode node = runArray.addObject();
      node.put("seconds", run.seconds());
      node.put("rows", run.rows());
      node.put("bytes", run.bytes());
      node.put("batches", run.batches());
      for (String name : FIGURES.keySet()) {
        node.put(name, figure(run, name));
      }
    }
    ObjectNode summary = root.putObject("summary");
    summary()
        .forEach(
            (name, s) ->
                summary
                    .putObject(name)
                    .put("median", s.median())
                    .put("min", s.min())
                    .put("max", s.max())
                    .put("spread", s.spread()));
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a saved report's JSON tree, refusing another format version. */
  public static JsonNode read(Path file) {
    try {
      JsonNode node = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
      if (node == null || node.path("format").asInt() != FORMAT || !node.has("summary")) {
        throw new IllegalArgumentException(
            file + " is not a quiver-bench report (format " + FORMAT + ")");
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  /** The report for people: one line per run, then the summary. */
  public String toText() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "quiver-bench %s %s against %s (%s), commit %s%n",
            config.get("mode"),
            config.get("schema"),
            config.get("uri"),
            serverKind,
            commit));
    out.append(
        String.format(
            Locale.ROOT,
            "%d streams x %,d rows in batches of %,d on %d threads%n",
            config.get("streams"),
            config.get("records_per_stream"),
            config.get("records_per_batch"),
            config.get("threads")));
    out.append(
        String.format(
            Locale.ROOT,
            "%-8s %10s %10s %12s %10s %9s %9s %9s %9s%n",
            "run",
            "MB/s",
            "MiB/s",
            "rows/s",
            "batches/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms"));
    for (int i = 0; i < runs.size(); i++) {
      RunResult r = runs.get(i);
      out.append(
          row(
              String.valueOf(i + 1),
              r.megabytesPerSecond(),
              r.mebibytesPerSecond(),
              r.rowsPerSecond(),
              r.batchesPerSecond(),
              figure(r, "latency_p50_ms"),
              figure(r, "latency_p95_ms"),
              figure(r, "latency_p99_ms"),
              figure(r, "latency_max_ms")));
    }
    Map<String, Stats.Summary> summary = summary();
    out.append(row("median", values(summary, Stats.Summary::median)));
    out.append(row("min", values(summary, Stats.Summary::min)));
    out.append(row("max", values(summary, Stats.Summary::max)));
    out.append(
        String.format(
            Locale.ROOT,
            "spread (max-min)/median: MB/s %.1f%%, p99 %.1f%%%n",
            summary.get("mb_per_s").spread() * 100,
            summary.get("latency_p99_ms").spread() * 100));
    serverPeakMemory.ifPresent(
        peak ->
            out.append(
                String.format(Locale.ROOT, "server peak Arrow memory: %.1f MB%n", peak / 1e6)));
    return out.toString();
  }

  private static double[] values(
      Map<String, Stats.Summary> summary, ToDoubleFunction<Stats.Summary> pick) {
    return summary.values().stream().mapToDouble(pick).toArray();
  }

  private static String row(String name, double... v) {
    return String.format(
        Locale.ROOT,
        "%-8s %10.1f %10.1f %12.0f %10.1f %9.3f %9.3f %9.3f %9.3f%n",
        name,
        v[0],
        v[1],
        v[2],
        v[3],
        v[4],
        v[5],
        v[6],
        v[7]);
  }

  /** The machine the harness runs on, for the report. */
  static Map<String, Object> thisMachine() {
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("host", hostName());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    machine.put("arch", System.getProperty("os.arch"));
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", System.getProperty("java.version"));
    machine.put("jvm", System.getProperty("java.vm.name"));
    machine.put(
        "load_average", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    return machine;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * The commit measured: {@code QUIVER_BENCH_COMMIT} if set, else {@code git rev-parse HEAD} in the
   * working directory (with "-dirty" when the tree has changes), else "unknown".
   */
  static String currentCommit() {
    String fromEnv = System.getenv("QUIVER_BENCH_COMMIT");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    String head = git("rev-parse", "HEAD");
    if (head.isEmpty()) {
      return "unknown";
    }
    return git("status", "--porcelain", "--untracked-files=no").isEmpty() ? head : head + "-dirty";
  }

  private static String git(String... args) {
    try {
      List<String> command = new java.util.ArrayList<>(List.of("git"));
      command.addAll(List.of(args));
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        return "";
      }
      return out.strip();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
