package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;

/**
 * A data file a scan reads and the delete files Iceberg's planning says apply to it ({@code
 * FileScanTask.deletes()}: sequence numbers and partitions already taken into account).
 *
 * @param data the data file
 * @param deletes its position and equality deletes, Parquet only (see {@link QuiverTable#files})
 */
public record ScanFile(DataFile data, List<Delete> deletes) {
  public ScanFile {
    requireNonNull(data, "data is null");
    deletes = List.copyOf(deletes);
  }

  /** A data file no delete applies to. */
  public static ScanFile of(DataFile data) {
    return new ScanFile(data, List.of());
  }

  /** True when some rows of the data file may be deleted. */
  public boolean hasDeletes() {
    return !deletes.isEmpty();
  }

  /**
   * A delete file and, for an equality delete, the table columns it matches on (top-level columns
   * named as the table's schema names them now).
   *
   * @param file the delete file
   * @param equalityColumns the columns an equality delete compares; empty for a position delete
   */
  public record Delete(DeleteFile file, List<String> equalityColumns) {
    public Delete {
      requireNonNull(file, "file is null");
      equalityColumns = List.copyOf(equalityColumns);
    }

    /** True for a position delete (file_path, pos), false for an equality delete. */
    public boolean positional() {
      return file.content() == FileContent.POSITION_DELETES;
    }
  }
}
