package dev.quiver.server.table;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a scan's files into shares, one per Flight endpoint.
 *
 * <p>Shares are contiguous runs of the files in put order, of roughly equal bytes, so reading the
 * endpoints one after another returns rows in the order they were put. The split depends only on
 * the files and the share count, so a DoGet recomputes exactly the share its ticket names from the
 * (immutable) snapshot: tickets never carry file paths. A data file's deletes go with it.
 */
public final class ScanShares {
  private ScanShares() {}

  /** How many shares to cut {@code files} into: about one per {@code targetBytes}, at least 1. */
  public static int count(List<ScanFile> files, long targetBytes, int maxShares) {
    long total = totalBytes(files);
    long wanted = Math.max(1, (total + targetBytes - 1) / targetBytes);
    return (int) Math.max(1, Math.min(wanted, Math.min(maxShares, Math.max(1, files.size()))));
  }

  /** Share {@code index} of {@code count}: possibly empty when one file outweighs the rest. */
  public static List<ScanFile> share(List<ScanFile> files, int index, int count) {
    if (count < 1 || index < 0 || index >= count) {
      throw new IllegalArgumentException("Share " + index + " of " + count + " does not exist");
    }
    return split(files, count).get(index);
  }

  /**
   * All {@code count} shares in one pass over the files; some may be empty (when a file outweighs
   * several shares).
   */
  public static List<List<ScanFile>> split(List<ScanFile> files, int count) {
    long total = Math.max(1, totalBytes(files));
    List<List<ScanFile>> shares = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      shares.add(new ArrayList<>());
    }
    long before = 0;
    for (ScanFile file : files) {
      // A file goes to the share its middle byte falls in: with files of slightly growing sizes,
      // the start byte would put two files in one share and leave the next share empty.
      long middle = before + file.data().fileSizeInBytes() / 2;
      shares.get((int) Math.min(count - 1, (middle * count) / total)).add(file);
      before += file.data().fileSizeInBytes();
    }
    return shares;
  }

  static long totalBytes(List<ScanFile> files) {
    long total = 0;
    for (ScanFile file : files) {
      total += file.data().fileSizeInBytes();
    }
    return total;
  }
}
