package dev.quiver.server.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints byte sizes such as {@code 256MB} (binary units: 1 KB = 1024 bytes). */
public final class DataSize {
  private static final Pattern SIZE =
      Pattern.compile("\\s*(\\d+)\\s*(B|KB|KIB|K|MB|MIB|M|GB|GIB|G|TB|TIB|T)?\\s*");

  private DataSize() {}

  /** The number of bytes {@code text} names; a bare number is bytes. */
  public static long parseBytes(String text) {
    Matcher m = SIZE.matcher(text.toUpperCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size; use a number with an optional unit B, KB, MB, GB or TB");
    }
    long value = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    int shift =
        switch (unit.charAt(0)) {
          case 'K' -> 10;
          case 'M' -> 20;
          case 'G' -> 30;
          case 'T' -> 40;
          default -> 0;
        };
    if (shift > 0 && value > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return value << shift;
  }

  /** {@code bytes} in the largest unit that keeps one decimal, e.g. {@code 64.0 MB}. */
  public static String format(long bytes) {
    String[] units = {"B", "KB", "MB", "GB", "TB"};
    double value = bytes;
    int unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
