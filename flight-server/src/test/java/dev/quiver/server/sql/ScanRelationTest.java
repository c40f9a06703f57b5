package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.server.table.LocalFiles;
import dev.quiver.server.table.ScanFile;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.PartitionSpec;
import org.junit.jupiter.api.Test;

/** The SQL of a scan's relation: plain read_parquet for files without deletes. */
class ScanRelationTest {
  private static final PartitionSpec SPEC = PartitionSpec.unpartitioned();

  @Test
  void filesWithoutDeletesReadAsOneReadParquetAsBefore() {
    LocalFiles files =
        LocalFiles.inPlace(
            List.of(ScanFile.of(data("/w/a.parquet")), ScanFile.of(data("/w/b.parquet"))));

    assertThat(ScanRelation.of(files, FieldIdColumns.BY_NAME))
        .isEqualTo("read_parquet(['/w/a.parquet', '/w/b.parquet'])");
  }

  @Test
  void filesOfAChangedSchemaAreReadByFieldId() {
    LocalFiles files = LocalFiles.inPlace(List.of(ScanFile.of(data("/w/a.parquet"))));
    FieldIdColumns ids = new FieldIdColumns(", schema = MAP {1: {name: 'x'}}");

    assertThat(ScanRelation.of(files, ids))
        .isEqualTo("read_parquet(['/w/a.parquet'], schema = MAP {1: {name: 'x'}})");
  }

  @Test
  void onlyTheFileWithDeletesIsFilteredAndFilesKeepTheirOrder() {
    DeleteFile delete =
        FileMetadata.deleteFileBuilder(SPEC)
            .ofPositionDeletes()
            .withPath("file:///w/del.parquet")
            .withFormat(FileFormat.PARQUET)
            .withFileSizeInBytes(10)
            .withRecordCount(1)
            .build();
    LocalFiles files =
        LocalFiles.inPlace(
            List.of(
                ScanFile.of(data("/w/a.parquet")),
                ScanFile.of(data("/w/b.parquet")),
                new ScanFile(data("/w/c.parquet"), List.of(new ScanFile.Delete(delete, List.of()))),
                ScanFile.of(data("/w/d.parquet"))));

    String sql = ScanRelation.of(files, FieldIdColumns.BY_NAME);

    assertThat(sql)
        .startsWith(
            "(SELECT * FROM read_parquet(['/w/a.parquet', '/w/b.parquet']) UNION ALL BY NAME")
        .endsWith("UNION ALL BY NAME SELECT * FROM read_parquet(['/w/d.parquet']))")
        .containsOnlyOnce("bitstring_agg(p, 0, 99)")
        .contains("read_parquet('/w/c.parquet', file_row_number = true)")
        .contains("FROM read_parquet(['/w/del.parquet']) WHERE file_path = 'file:///w/c.parquet'");
  }

  private static DataFile data(String path) {
    return DataFiles.builder(SPEC)
        .withPath("file://" + path)
        .withFormat(FileFormat.PARQUET)
        .withFileSizeInBytes(1000)
        .withRecordCount(100)
        .build();
  }
}
