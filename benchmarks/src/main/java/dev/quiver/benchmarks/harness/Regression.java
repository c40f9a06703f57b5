package dev.quiver.benchmarks.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code quiver-bench compare BASELINE.json CURRENT.json [--min-change PCT]}: flags every figure of
 * the current result that is worse than the baseline's beyond the noise they were measured with.
 *
 * <p>The noise of a figure is the larger of the two results' spreads over their runs ((max - min) /
 * median), and at least {@code --min-change} percent (default 0). A throughput below the baseline's
 * median by more than that, or a latency above it by more, is a regression; the exit code is then
 * {@link QuiverBench#REGRESSION}. Results of different modes or schemas are not compared.
 */
final class Regression {
  private static final List<String> SAME =
      List.of("mode", "schema", "streams", "threads", "records_per_stream", "records_per_batch");

  private Regression() {}

  /**
   * One figure compared.
   *
   * @param figure the figure's name
   * @param baseline the baseline's median
   * @param current the current median
   * @param noise the relative noise allowed
   * @param higherIsBetter whether more is better
   */
  record Verdict(
      String figure, double baseline, double current, double noise, boolean higherIsBetter) {
    /** Relative change from the baseline; positive when the figure grew. */
    double change() {
      return baseline == 0 ? 0 : (current - baseline) / Math.abs(baseline);
    }

    /** Whether the figure got worse by more than the noise. */
    boolean regressed() {
      double worse = higherIsBetter ? -change() : change();
      return worse > noise;
    }

    /** Whether the figure got better by more than the noise. */
    boolean improved() {
      double better = higherIsBetter ? change() : -change();
      return better > noise;
    }
  }

  static int run(List<String> args, PrintStream out) {
    List<String> files = new ArrayList<>();
    double minChange = 0;
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--min-change")) {
        if (i + 1 == args.size()) {
          throw new IllegalArgumentException("--min-change needs a value");
        }
        minChange = Double.parseDouble(args.get(++i)) / 100;
      } else {
        files.add(args.get(i));
      }
    }
    if (files.size() != 2) {
      throw new IllegalArgumentException(
          "Usage: quiver-bench compare BASELINE.json CURRENT.json [--min-change PCT]");
    }
    JsonNode baseline = BenchReport.read(Path.of(files.get(0)));
    JsonNode current = BenchReport.read(Path.of(files.get(1)));
    List<Verdict> verdicts = compare(baseline, current, minChange);
    out.printf(
        Locale.ROOT,
        "baseline %s (%s) vs current %s (%s)%n",
        files.get(0),
        baseline.path("commit").asText(),
        files.get(1),
        current.path("commit").asText());
    out.printf(
        Locale.ROOT,
        "%-16s %14s %14s %9s %8s  %s%n",
        "figure",
        "baseline",
        "current",
        "change",
        "noise",
        "verdict");
    int regressions = 0;
    for (Verdict v : verdicts) {
      String verdict = v.regressed() ? "REGRESSION" : v.improved() ? "better" : "same";
      regressions += v.regressed() ? 1 : 0;
      out.printf(
          Locale.ROOT,
          "%-16s %14.3f %14.3f %+8.1f%% %7.1f%%  %s%n",
          v.figure(),
          v.baseline(),
          v.current(),
          v.change() * 100,
          v.noise() * 100,
          verdict);
    }
    out.println(
        regressions == 0
            ? "No figure is worse beyond its noise."
            : regressions + " figure(s) worse beyond their noise.");
    return regressions == 0 ? QuiverBench.OK : QuiverBench.REGRESSION;
  }

  /** Compares every summarised figure of two reports' JSON trees. */
  static List<Verdict> compare(JsonNode baseline, JsonNode current, double minChange) {
    for (String key : SAME) {
      JsonNode a = baseline.path("config").path(key);
      JsonNode b = current.path("config").path(key);
      if (!a.equals(b)) {
        throw new IllegalArgumentException(
            "The results measure different things: config." + key + " is " + a + " and " + b);
      }
    }
    List<Verdict> verdicts = new ArrayList<>();
    for (Map.Entry<String, Boolean> figure : BenchReport.FIGURES.entrySet()) {
      JsonNode a = baseline.path("summary").path(figure.getKey());
      JsonNode b = current.path("summary").path(figure.getKey());
      if (a.isMissingNode() || b.isMissingNode()) {
        continue;
      }
      double noise =
          Math.max(minChange, Math.max(a.path("spread").asDouble(), b.path("spread").asDouble()));
      verdicts.add(
          new Verdict(
              figure.getKey(),
              a.path("median").asDouble(),
              b.path("median").asDouble(),
              noise,
              figure.getValue()));
    }
    return verdicts;
  }
}
