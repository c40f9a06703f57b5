package dev.quiver.server.table;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.StructLike;

/**
 * Splits a scan's files into shares, one per Flight endpoint.
 *
 * <p>Shares are contiguous runs of the files in put order, of roughly equal bytes, so reading the
 * endpoints one after another returns rows in the order they were put. The split depends only on
 * the files and the share count, so a DoGet recomputes exactly the share its ticket names from the
 * (immutable) snapshot: tickets never carry file paths. A data file's deletes go with it.
 *
 * <p>When the files lie in several partitions (of a partitioned table, or of its specs over time),
 * shares split along them: the files are grouped by partition (groups in the order of their first
 * file, files in put order within each), every partition gets at least one share of its own when
 * there are as many shares as partitions ({@link #count} asks for that, up to its maximum), and the
 * rest go to the largest partitions. With more partitions than shares, whole partitions are packed
 * into shares by bytes. Rows are then in put order within each partition.
 */
public final class ScanShares {
  private ScanShares() {}

  /**
   * How many shares to cut {@code files} into: about one per {@code targetBytes}, and at least one
   * per partition, at least 1, at most {@code maxShares}.
   */
  public static int count(List<ScanFile> files, long targetBytes, int maxShares) {
    long total = totalBytes(files);
    long wanted = Math.max(1, (total + targetBytes - 1) / targetBytes);
    wanted = Math.max(wanted, partitions(files).size());
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
    List<List<ScanFile>> groups = partitions(files);
    if (groups.size() <= 1) {
      return splitByBytes(files, count);
    }
    if (groups.size() > count) {
      // Pack whole partitions: split the list of partitions by bytes, as files are split.
      List<List<ScanFile>> shares = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        shares.add(new ArrayList<>());
      }
      long total = Math.max(1, totalBytes(files));
      long before = 0;
      for (List<ScanFile> group : groups) {
        shares.get((int) Math.min(count - 1, (before * count) / total)).addAll(group);
        before += totalBytes(group);
      }
      return shares;
    }
    // One share per partition, the spare ones each to the partition with most bytes per share.
    int[] perGroup = new int[groups.size()];
    java.util.Arrays.fill(perGroup, 1);
    for (int spare = count - groups.size(); spare > 0; spare--) {
      int best = 0;
      for (int g = 1; g < groups.size(); g++) {
        if (totalBytes(groups.get(g)) * perGroup[best]
            > totalBytes(groups.get(best)) * perGroup[g]) {
          best = g;
        }
      }
      perGroup[best]++;
    }
    List<List<ScanFile>> shares = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      shares.addAll(splitByBytes(groups.get(g), perGroup[g]));
    }
    return shares;
  }

  private static List<List<ScanFile>> splitByBytes(List<ScanFile> files, int count) {
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

  /** The files grouped by spec and partition, groups in the order of their first file. */
  static List<List<ScanFile>> partitions(List<ScanFile> files) {
    Map<List<Object>, List<ScanFile>> groups = new LinkedHashMap<>();
    for (ScanFile file : files) {
      groups.computeIfAbsent(partitionKey(file), k -> new ArrayList<>()).add(file);
    }
    return new ArrayList<>(groups.values());
  }

  private static List<Object> partitionKey(ScanFile file) {
    StructLike partition = file.data().partition();
    List<Object> key = new ArrayList<>();
    key.add(file.data().specId());
    int size = partition == null ? 0 : partition.size();
    for (int i = 0; i < size; i++) {
      // Strings may come back as Avro Utf8 or String: compare their text.
      key.add(String.valueOf(partition.get(i, Object.class)));
    }
    return key;
  }

  static long totalBytes(List<ScanFile> files) {
    long total = 0;
    for (ScanFile file : files) {
      total += file.data().fileSizeInBytes();
    }
    return total;
  }
}
