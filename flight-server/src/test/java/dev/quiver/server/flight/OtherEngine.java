package dev.quiver.server.flight;

import dev.quiver.server.table.LocalFileIO;
import dev.quiver.server.table.S3ClientFactory;
import dev.quiver.server.table.S3ProxyExtension;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.aws.s3.S3FileIO;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * Another engine on Quiver's catalog, as Trino or Spark would be: it opens the server's catalog
 * database directly and commits through Iceberg's API, Parquet files written by DuckDB with field
 * ids (position deletes, equality deletes, data files of tables it creates itself).
 */
final class OtherEngine implements AutoCloseable {
  static final int FILE_PATH_ID = 2147483546;
  static final int POS_ID = 2147483545;

  private final JdbcCatalog catalog;
  private final Path scratch;
  private final Connection duckdb;

  private OtherEngine(Map<String, String> props, Path scratch) throws Exception {
    Map<String, String> all = new HashMap<>(props);
    all.put("jdbc.schema-version", "V1");
    this.catalog = new JdbcCatalog();
    catalog.initialize("quiver", all);
    this.scratch = Files.createDirectories(scratch);
    this.duckdb = DriverManager.getConnection("jdbc:duckdb:");
  }

  /**
   * The catalog of a server on the embedded default (SQLite, local warehouse) in {@code dataDir}.
   */
  static OtherEngine local(Path dataDir) throws Exception {
    return new OtherEngine(
        Map.of(
            CatalogProperties.URI,
            "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("catalog.db"),
            CatalogProperties.WAREHOUSE_LOCATION,
            LocalFileIO.toLocation(dataDir.toAbsolutePath().resolve("warehouse")),
            CatalogProperties.FILE_IO_IMPL,
            LocalFileIO.class.getName()),
        dataDir.resolve("other-engine"));
  }

  /** The catalog of a server in {@code dataDir} whose warehouse is {@code prefix} in s3proxy. */
  static OtherEngine s3(Path dataDir, S3ProxyExtension s3, String prefix) throws Exception {
    return new OtherEngine(
        Map.of(
            CatalogProperties.URI,
            "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("catalog.db"),
            CatalogProperties.WAREHOUSE_LOCATION,
            "s3://" + s3.bucket() + "/" + prefix,
            CatalogProperties.FILE_IO_IMPL,
            S3FileIO.class.getName(),
            S3FileIOProperties.CLIENT_FACTORY,
            S3ClientFactory.class.getName(),
            S3FileIOProperties.ENDPOINT,
            s3.endpoint(),
            S3FileIOProperties.PATH_STYLE_ACCESS,
            "true"),
        dataDir.resolve("other-engine"));
  }

  JdbcCatalog catalog() {
    return catalog;
  }

  Table table(String namespace, String name) {
    return catalog.loadTable(TableIdentifier.of(namespace, name));
  }

  /** The current snapshot's data files in the order Quiver reads them (sequence, then path). */
  static List<DataFile> dataFiles(Table table) throws IOException {
    List<DataFile> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(t -> files.add(t.file()));
    }
    files.sort(
        Comparator.comparing((DataFile f) -> f.dataSequenceNumber())
            .thenComparing(DataFile::location));
    return files;
  }

  /** Writes and commits one position-delete file: {@code positions} of each data file location. */
  DeleteFile deletePositions(Table table, Map<String, List<Long>> positions) throws Exception {
    StringBuilder rows = new StringBuilder();
    long count = 0;
    for (String location : positions.keySet().stream().sorted().toList()) {
      for (long pos : positions.get(location).stream().sorted().toList()) {
        rows.append(rows.length() == 0 ? "" : ", ")
            .append("('")
            .append(location.replace("'", "''"))
            .append("', ")
            .append(pos)
            .append("::BIGINT)");
        count++;
      }
    }
    return deletePositions(
        table,
        "SELECT * FROM (VALUES " + rows + ") t(file_path, pos) ORDER BY file_path, pos",
        count);
  }

  /**
   * Writes and commits one position-delete file holding the rows of {@code query} (columns
   * file_path, pos, sorted), {@code count} of them.
   */
  DeleteFile deletePositions(Table table, String query, long count) throws Exception {
    String location =
        upload(table, query, "FIELD_IDS {file_path: " + FILE_PATH_ID + ", pos: " + POS_ID + "}");
    DeleteFile delete =
        FileMetadata.deleteFileBuilder(table.spec())
            .ofPositionDeletes()
            .withPath(location)
            .withFormat(FileFormat.PARQUET)
            .withFileSizeInBytes(table.io().newInputFile(location).getLength())
            .withRecordCount(count)
            .build();
    table.newRowDelta().addDeletes(delete).commit();
    return delete;
  }

  /** Writes and commits one equality-delete file on bigint {@code column}: rows equal to values. */
  DeleteFile deleteEqual(Table table, String column, List<Long> values) throws Exception {
    int fieldId = table.schema().findField(column).fieldId();
    StringBuilder rows = new StringBuilder();
    for (Long value : values) {
      rows.append(rows.length() == 0 ? "" : ", ")
          .append("(")
          .append(value == null ? "NULL" : value.toString())
          .append("::BIGINT)");
    }
    String location =
        upload(
            table,
            "SELECT * FROM (VALUES " + rows + ") t(\"" + column + "\")",
            "FIELD_IDS {\"" + column + "\": " + fieldId + "}");
    DeleteFile delete =
        FileMetadata.deleteFileBuilder(table.spec())
            .ofEqualityDeletes(fieldId)
            .withPath(location)
            .withFormat(FileFormat.PARQUET)
            .withFileSizeInBytes(table.io().newInputFile(location).getLength())
            .withRecordCount(values.size())
            .build();
    table.newRowDelta().addDeletes(delete).commit();
    return delete;
  }

  /**
   * Writes {@code query}'s rows as a Parquet data file ({@code options}: DuckDB COPY options such
   * as FIELD_IDS) and appends it to {@code table}.
   */
  DataFile append(Table table, String query, String options, long rows) throws Exception {
    String location = upload(table, query, options);
    DataFile file =
        DataFiles.builder(table.spec())
            .withPath(location)
            .withFormat(FileFormat.PARQUET)
            .withFileSizeInBytes(table.io().newInputFile(location).getLength())
            .withRecordCount(rows)
            .build();
    table.newAppend().appendFile(file).commit();
    return file;
  }

  private String upload(Table table, String query, String options) throws Exception {
    Path local = scratch.resolve(UUID.randomUUID() + ".parquet");
    try (Statement statement = duckdb.createStatement()) {
      statement.execute(
          "COPY ("
              + query
              + ") TO '"
              + local
              + "' (FORMAT parquet"
              + (options.isEmpty() ? "" : ", " + options)
              + ")");
    } catch (SQLException e) {
      throw new IllegalStateException("DuckDB cannot write " + query + ": " + e.getMessage(), e);
    }
    String location = table.locationProvider().newDataLocation(local.getFileName().toString());
    OutputFile out = table.io().newOutputFile(location);
    try (OutputStream stream = out.createOrOverwrite()) {
      Files.copy(local, stream);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Files.delete(local);
    return location;
  }

  @Override
  public void close() throws Exception {
    try {
      duckdb.close();
    } finally {
      catalog.close();
    }
  }
}
