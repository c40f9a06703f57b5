package dev.quiver.server.table;

import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.DataFile;

/**
 * Splits a scan's files into shares, one per Flight endpoint.
 *
 * <p>Shares are contiguous runs of the files in put order, of roughly equal bytes, so reading the
 * endpoints one after another returns rows in the order they were put. The split depends only on
 * the files and the share count, so a DoGet recomputes exactly the share its ticket names from the
 * (immutable) snapshot: tickets never carry file paths.
 */
public final class ScanShares {
  private ScanShares() {}

  /** How many shares to cut {@code files} into: about one per {@code targetBytes}, at least 1. */
  public static int count(List<DataFile> files, long targetBytes, int maxShares) {
    long total = totalBytes(files);
    long wanted = Math.max(1, (total + targetBytes - 1) / targetBytes);
    return (int) Math.max(1, Math.min(wanted, Math.min(maxShares, Math.max(1, files.size()))));
  }

  /** Share {@code index} of {@code count}: possibly empty when one file outweighs the rest. */
  public static List<DataFile> share(List<DataFile> files, int index, int count) {
    if (count < 1 || index < 0 || index >= count) {
      throw new IllegalArgumentException("Share " + index + " of " + count + " does not exist");
    }
    return split(files, count).get(index);
  }

  /** All {@code count} shares in one pass over the files; some may be empty. */
  public static List<List<DataFile>> split(List<DataFile> files, int count) {
    long total = Math.max(1, totalBytes(files));
    List<List<DataFile>> shares = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      shares.add(new ArrayList<>());
    }
    long before = 0;
    for (DataFile file : files) {
      shares.get((int) Math.min(count - 1, (before * count) / total)).add(file);
      before += file.fileSizeInBytes();
    }
    return shares;
  }

  static long totalBytes(List<DataFile> files) {
    long total = 0;
    for (DataFile file : files) {
      total += file.fileSizeInBytes();
    }
    return total;
  }
}
