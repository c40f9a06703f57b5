package dev.quiver.server.sql;

import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.ScanFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DuckDB relation that reads a scan's data files with their Iceberg delete files applied.
 *
 * <p>Files no delete applies to are read as before, one {@code read_parquet} over a run of them. A
 * file with deletes is read on its own with its row numbers ({@code file_row_number}) and filtered
 * through a bitmap of its deleted rows: {@code bitstring_agg} over the positions its
 * position-delete files list for it (matched on {@code file_path}, the data file's table location,
 * since DuckDB reads a local path or read-cache copy) and over the row numbers of its rows that an
 * equality delete matches ({@code IS NOT DISTINCT FROM} on the delete's columns). The bitmap is a
 * scalar subquery computed once, a bit per row of the file, so the file itself streams in row
 * order: a hash anti-join would return rows out of order when DuckDB reads the file on several
 * threads. Runs are combined with {@code UNION ALL BY NAME}, which DuckDB reads in order.
 */
final class ScanRelation {
  private ScanRelation() {}

  /** The relation of plain data files, none with deletes: {@code read_parquet([...])}. */
  static String of(List<Path> files) {
    return of(files, FieldIdColumns.BY_NAME);
  }

  /** The relation of plain data files, their columns found as {@code columns} says. */
  static String of(List<Path> files, FieldIdColumns columns) {
    return "read_parquet(" + list(files) + columns.option() + ")";
  }

  /** {@code files} as a DuckDB list of string literals. */
  static String list(List<Path> files) {
    StringBuilder sql = new StringBuilder("[");
    for (int i = 0; i < files.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append(SqlText.literal(files.get(i).toString()));
    }
    return sql.append("]").toString();
  }

  /**
   * The relation of {@code local}'s data files with their deletes applied, in file order then row
   * order; exactly {@link #of(List, FieldIdColumns)} when no file has deletes. The data files and
   * the equality delete files are read as {@code columns} says.
   */
  static String of(LocalFiles local, FieldIdColumns columns) {
    List<ScanFile> files = local.files();
    if (files.stream().noneMatch(ScanFile::hasDeletes)) {
      return of(local.paths(), columns);
    }
    List<String> parts = new ArrayList<>();
    List<Path> run = new ArrayList<>();
    for (ScanFile file : files) {
      if (!file.hasDeletes() || file.data().recordCount() < 1) {
        run.add(local.path(file.data().location()));
        continue;
      }
      if (!run.isEmpty()) {
        parts.add("SELECT * FROM " + of(run, columns));
        run = new ArrayList<>();
      }
      parts.add(withDeletes(file, local, columns));
    }
    if (!run.isEmpty()) {
      parts.add("SELECT * FROM " + of(run, columns));
    }
    return "(" + String.join(" UNION ALL BY NAME ", parts) + ")";
  }

  private static String withDeletes(ScanFile file, LocalFiles local, FieldIdColumns columns) {
    String data = SqlText.literal(local.path(file.data().location()).toString());
    long rows = file.data().recordCount();
    List<String> deleted = new ArrayList<>();
    List<Path> positional = new ArrayList<>();
    Map<List<String>, List<Path>> equality = new LinkedHashMap<>();
    for (ScanFile.Delete delete : file.deletes()) {
      Path path = local.path(delete.file().location());
      if (delete.positional()) {
        positional.add(path);
      } else {
        equality.computeIfAbsent(delete.equalityColumns(), c -> new ArrayList<>()).add(path);
      }
    }
    if (!positional.isEmpty()) {
      deleted.add(
          "SELECT pos AS p FROM "
              + of(positional)
              + " WHERE file_path = "
              + SqlText.literal(file.data().location())
              + " AND pos BETWEEN 0 AND "
              + (rows - 1));
    }
    equality.forEach(
        (matched, paths) -> {
          StringBuilder on = new StringBuilder();
          StringBuilder select = new StringBuilder();
          for (String column : matched) {
            String c = SqlText.identifier(column);
            select.append(select.length() == 0 ? "" : ", ").append(c);
            on.append(on.length() == 0 ? "" : " AND ")
                .append("d.")
                .append(c)
                .append(" IS NOT DISTINCT FROM e.")
                .append(c);
          }
          deleted.add(
              "SELECT d.file_row_number AS p FROM read_parquet("
                  + data
                  + ", file_row_number = true"
                  + columns.option()
                  + ") AS d SEMI JOIN (SELECT "
                  + select
                  + " FROM "
                  + of(paths, columns)
                  + ") AS e ON "
                  + on);
        });
    return "SELECT * EXCLUDE (file_row_number) FROM read_parquet("
        + data
        + ", file_row_number = true"
        + columns.option()
        + ") WHERE coalesce(get_bit((SELECT bitstring_agg(p, 0, "
        + (rows - 1)
        + ") FROM ("
        + String.join(" UNION ALL ", deleted)
        + ")), CAST(file_row_number AS INTEGER)), 0) = 0";
  }
}
