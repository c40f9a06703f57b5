package dev.quiver.server.telemetry;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Prometheus text-format scrape, parsed into samples and metric names. */
final class Scrape {
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})?\\s+(\\S+).*$");
  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) \\S+$");

  final String text;
  // name + sorted label text -> value
  private final Map<String, Double> samples = new HashMap<>();
  private final Set<String> names = new TreeSet<>();

  Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        names.add(type.group(1));
        continue;
      }
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      if (sample.matches()) {
        names.add(sample.group(1));
        String labels = sample.group(2) == null ? "" : sample.group(2);
        samples.put(sample.group(1) + labels, Double.parseDouble(sample.group(3)));
      }
    }
  }

  /** Every metric family and sample name in the scrape. */
  Set<String> names() {
    return names;
  }

  /** The value of the sample {@code name} whose labels include every {@code labels} pair. */
  double value(String name, String... labels) {
    Double found = null;
    for (Map.Entry<String, Double> e : samples.entrySet()) {
      String key = e.getKey();
      if (!key.equals(name) && !key.startsWith(name + "{")) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        all &= key.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        if (found != null) {
          throw new AssertionError("More than one sample of " + name + " matches: " + text);
        }
        found = e.getValue();
      }
    }
    if (found == null) {
      throw new AssertionError(
          "No sample " + name + " with " + String.join(",", labels) + " in:\n" + text);
    }
    return found;
  }
}
