package dev.quiver.benchmarks.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code quiver-bench trend OUT.html RESULT.json|DIR...}: one self-contained HTML file (inline SVG,
 * no scripts, no CDN) with a chart per measurement and figure across saved results, oldest first.
 *
 * <p>A measurement is what a result measured: mode, schema, server kind, streams, rows and label;
 * each gets a chart of MB/s and of p99 batch latency, the median of each result drawn as a point
 * with a bar from its slowest to its fastest run. Files that are not quiver-bench results are
 * skipped with a note.
 */
final class TrendReport {
  private static final int WIDTH = 720;
  private static final int HEIGHT = 220;
  private static final int PAD = 48;
  private static final List<String> CHARTED = List.of("mb_per_s", "latency_p99_ms");

  private TrendReport() {}

  static int run(List<String> args, PrintStream out) {
    if (args.size() < 2) {
      throw new IllegalArgumentException("Usage: quiver-bench trend OUT.html RESULT.json|DIR...");
    }
    Path target = Path.of(args.get(0));
    List<JsonNode> results = new ArrayList<>();
    for (String arg : args.subList(1, args.size())) {
      for (Path file : jsonFiles(Path.of(arg))) {
        try {
          results.add(BenchReport.read(file));
        } catch (IllegalArgumentException | UncheckedIOException e) {
          out.println("Skipping " + file + ": " + e.getMessage());
        }
      }
    }
    if (results.isEmpty()) {
      throw new IllegalArgumentException(
          "No quiver-bench results in " + args.subList(1, args.size()));
    }
    try {
      Files.writeString(target, html(results), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target, e);
    }
    out.println("Trend of " + results.size() + " results: " + target);
    return QuiverBench.OK;
  }

  private static List<Path> jsonFiles(Path path) {
    if (!Files.isDirectory(path)) {
      return List.of(path);
    }
    try (Stream<Path> files = Files.walk(path)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + path, e);
    }
  }

  /** What a result measured, which decides the chart it belongs to. */
  static String measurement(JsonNode result) {
    JsonNode c = result.path("config");
    String label = c.path("label").asText();
    return String.format(
        Locale.ROOT,
        "%s %s, %s server, %d x %,d rows, batches of %,d%s",
        c.path("mode").asText(),
        c.path("schema").asText(),
        result.path("server").path("kind").asText(),
        c.path("streams").asInt(),
        c.path("records_per_stream").asLong(),
        c.path("records_per_batch").asLong(),
        label.isEmpty() ? "" : " [" + label + "]");
  }

  /** The whole page. */
  static String html(List<JsonNode> results) {
    Map<String, List<JsonNode>> groups = new TreeMap<>();
    for (JsonNode result : results) {
      groups.computeIfAbsent(measurement(result), k -> new ArrayList<>()).add(result);
    }
    StringBuilder page = new StringBuilder();
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>quiver-bench trend</title><style>")
        .append("body{font-family:sans-serif;margin:2em;color:#222}")
        .append("svg{background:#fafafa;border:1px solid #ddd;margin:.5em 0}")
        .append("table{border-collapse:collapse;font-size:90%}")
        .append("td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}")
        .append("</style></head><body>\n<h1>quiver-bench trend</h1>\n")
        .append("<p>")
        .append(results.size())
        .append(" results. Points are medians over runs; bars span the slowest to the fastest")
        .append(" run.</p>\n");
    for (Map.Entry<String, List<JsonNode>> group : groups.entrySet()) {
      List<JsonNode> series = new ArrayList<>(group.getValue());
      series.sort(Comparator.comparing(r -> r.path("started").asText()));
      page.append("<h2>").append(escape(group.getKey())).append("</h2>\n");
      for (String figure : CHARTED) {
        page.append(chart(figure, series));
      }
      page.append(table(series));
    }
    return page.append("</body></html>\n").toString();
  }

  private static String chart(String figure, List<JsonNode> series) {
    int n = series.size();
    double top = 0;
    for (JsonNode r : series) {
      top = Math.max(top, r.path("summary").path(figure).path("max").asDouble());
    }
    top = top <= 0 ? 1 : top * 1.1;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\""
                + " aria-label=\"%s\">",
            WIDTH,
            HEIGHT,
            escape(figure)));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"16\" font-size=\"13\">%s</text>",
            PAD,
            escape(figure)));
    int plotW = WIDTH - 2 * PAD;
    int plotH = HEIGHT - 2 * PAD;
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>",
            PAD,
            HEIGHT - PAD,
            WIDTH - PAD,
            HEIGHT - PAD));
    for (int tick = 0; tick <= 4; tick++) {
      double value = top * tick / 4;
      double y = HEIGHT - PAD - plotH * tick / 4.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.4g</text>"
                  + "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>",
              PAD - 4,
              y + 3,
              value,
              PAD,
              y,
              WIDTH - PAD,
              y));
    }
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < n; i++) {
      JsonNode s = series.get(i).path("summary").path(figure);
      double x = PAD + (n == 1 ? plotW / 2.0 : plotW * i / (double) (n - 1));
      double median = y(s.path("median").asDouble(), top, plotH);
      double min = y(s.path("min").asDouble(), top, plotH);
      double max = y(s.path("max").asDouble(), top, plotH);
      line.append(i == 0 ? "M" : "L").append(String.format(Locale.ROOT, "%.1f,%.1f", x, median));
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ab\"/>"
                  + "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#2a6\"><title>%s: %.4g"
                  + "</title></circle>"
                  + "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%s</text>",
              x,
              min,
              x,
              max,
              x,
              median,
              escape(shortCommit(series.get(i))),
              s.path("median").asDouble(),
              x,
              HEIGHT - PAD + 14,
              escape(shortCommit(series.get(i)))));
    }
    svg.append("<path d=\"")
        .append(line)
        .append("\" fill=\"none\" stroke=\"#2a6\" stroke-width=\"1.5\"/>");
    return svg.append("</svg>\n").toString();
  }

  private static double y(double value, double top, int plotH) {
    return HEIGHT - PAD - plotH * (value / top);
  }

  private static String table(List<JsonNode> series) {
    StringBuilder t = new StringBuilder("<table><tr><th>started</th><th>commit</th>");
    t.append("<th>MB/s</th><th>spread</th><th>rows/s</th><th>p99 ms</th><th>host</th></tr>\n");
    for (JsonNode r : series) {
      JsonNode s = r.path("summary");
      t.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%s</td><td>%.1f</td><td>%.1f%%</td><td>%.0f</td><td>%.3f</td>"
                  + "<td>%s</td></tr>%n",
              escape(r.path("started").asText()),
              escape(shortCommit(r)),
              s.path("mb_per_s").path("median").asDouble(),
              s.path("mb_per_s").path("spread").asDouble() * 100,
              s.path("rows_per_s").path("median").asDouble(),
              s.path("latency_p99_ms").path("median").asDouble(),
              escape(r.path("machine").path("host").asText())));
    }
    return t.append("</table>\n").toString();
  }

  private static String shortCommit(JsonNode result) {
    String commit = result.path("commit").asText("unknown");
    return commit.length() > 10 && !commit.equals("unknown") ? commit.substring(0, 8) : commit;
  }

  static String escape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
