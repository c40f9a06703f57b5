package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.BaseTransaction;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.GenericStatisticsFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestWriter;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.apache.iceberg.inmemory.InMemoryFileIO;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** CommitLocations over Iceberg's in-memory catalog, its tables in {@code s3://bucket/wh}. */
class CommitLocationsTest {
  private static final Schema SCHEMA =
      new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));
  private static final String NS_FOLDER = "s3://bucket/wh/sales";
  private static final String T1 = NS_FOLDER + "/t1";
  private static final TableIdentifier IDENT = TableIdentifier.of("sales", "t1");

  private InMemoryCatalog catalog;
  private Table table;

  @BeforeEach
  void createTable() {
    catalog = new InMemoryCatalog();
    catalog.initialize("test", Map.of());
    catalog.createNamespace(Namespace.of("sales"));
    table = catalog.buildTable(IDENT, SCHEMA).withLocation(T1).create();
  }

  @AfterEach
  void closeCatalog() throws Exception {
    catalog.close();
  }

  @Test
  void locationsCompareByPathSegmentAfterNormalising() {
    assertThat(CommitLocations.isUnder(T1, T1)).isTrue();
    assertThat(CommitLocations.isUnder(T1, T1 + "/data/a.parquet")).isTrue();
    assertThat(CommitLocations.isUnder(T1 + "/", T1 + "//data/a.parquet")).isTrue();
    assertThat(CommitLocations.isUnder(T1, NS_FOLDER + "/t1_evil/a.parquet"))
        .as("a sibling prefix")
        .isFalse();
    assertThat(CommitLocations.isUnder(T1, T1 + "/../t2/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(T1, T1 + "/./a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(T1, "s3://other/wh/sales/t1/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(T1, "s3a://bucket/wh/sales/t1/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(T1, T1 + "/a.parquet?x=1")).isFalse();
    assertThat(CommitLocations.isUnder(T1, "wh/sales/t1/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(T1, null)).isFalse();

    String local = "file:///srv/wh/sales/t1";
    assertThat(CommitLocations.isUnder(local, "/srv/wh/sales/t1/data/a.parquet")).isTrue();
    assertThat(CommitLocations.isUnder(local, "file:/srv/wh/sales/t1/a.parquet")).isTrue();
    assertThat(CommitLocations.isUnder(local, "/srv/wh/sales/t1/../../../../etc/passwd")).isFalse();
    assertThat(CommitLocations.isUnder(local, "file:///srv/wh/sales/t1/%2e%2e/t2/a.parquet"))
        .as("decoded as LocalFileIO opens it")
        .isFalse();
    assertThat(CommitLocations.isUnder(local, "file:///srv/wh/sales/t10/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(local, "file://host/srv/wh/sales/t1/a.parquet")).isFalse();
    assertThat(CommitLocations.isUnder(local, "s3://srv/wh/sales/t1/a.parquet")).isFalse();
  }

  @Test
  void filesUnderTheTableLocationPass() {
    Transaction tx = table.newTransaction();
    tx.newAppend().appendFile(dataFile(T1 + "/data/a.parquet")).commit();
    tx.newRowDelta().addDeletes(deleteFile(T1 + "/data/a-deletes.parquet")).commit();
    check(tx);
  }

  @Test
  void aDataFileOfAnotherTableIsRefused() {
    Transaction tx = table.newTransaction();
    tx.newAppend().appendFile(dataFile(NS_FOLDER + "/t2/data/b.parquet")).commit();
    assertRefused(
        () -> check(tx), "data file " + NS_FOLDER + "/t2/data/b.parquet is not under " + T1 + "/");
  }

  @Test
  void aSiblingPrefixOrDotDotIsRefused() {
    Transaction sibling = table.newTransaction();
    sibling.newAppend().appendFile(dataFile(NS_FOLDER + "/t1_evil/c.parquet")).commit();
    assertRefused(() -> check(sibling), "data file " + NS_FOLDER + "/t1_evil/c.parquet");

    Transaction dots = table.newTransaction();
    dots.newAppend().appendFile(dataFile(T1 + "/../../etc/passwd")).commit();
    assertRefused(() -> check(dots), "data file " + T1 + "/../../etc/passwd");
  }

  @Test
  void aDeleteFileOutsideIsRefused() {
    Transaction tx = table.newTransaction();
    tx.newRowDelta().addDeletes(deleteFile("s3://bucket/secrets/d.parquet")).commit();
    assertRefused(() -> check(tx), "delete file s3://bucket/secrets/d.parquet");
  }

  @Test
  void aManifestOutsideIsRefused() throws Exception {
    String path = "s3://bucket/wh/other/t9/metadata/m.avro";
    ManifestWriter<DataFile> writer =
        ManifestFiles.write(2, PartitionSpec.unpartitioned(), table.io().newOutputFile(path), null);
    try (writer) {
      writer.add(dataFile(T1 + "/data/a.parquet"));
    }
    Transaction tx = table.newTransaction();
    tx.newAppend().appendManifest(writer.toManifestFile()).commit();
    assertRefused(() -> check(tx), "manifest " + path);
  }

  @Test
  void aManifestListOutsideIsRefused() {
    // A table whose write.metadata.path predates the check: kept, but its new files are not.
    table.updateProperties().set(TableProperties.WRITE_METADATA_LOCATION, "s3://bucket/x").commit();
    Transaction tx = table.newTransaction();
    tx.newAppend().appendFile(dataFile(T1 + "/data/a.parquet")).commit();
    assertRefused(() -> check(tx), "manifest list of snapshot");
  }

  @Test
  void manifestsTheParentListsAreNotReadAgain() {
    table.newAppend().appendFile(dataFile(T1 + "/data/a.parquet")).commit();
    ManifestFile inherited = table.currentSnapshot().allManifests(table.io()).get(0);
    Transaction tx = table.newTransaction();
    tx.newFastAppend().appendFile(dataFile(T1 + "/data/b.parquet")).commit();
    table.io().deleteFile(inherited.path());
    check(tx); // reading the parent's manifest would fail: it is gone
  }

  @Test
  void writePathPropertiesMustLieUnderTheLocation() {
    for (String key : CommitLocations.PATH_PROPERTIES) {
      Transaction outside = table.newTransaction();
      outside.updateProperties().set(key, NS_FOLDER + "/t2/data").commit();
      assertRefused(() -> check(outside), "property " + key + " " + NS_FOLDER + "/t2/data");
    }
    Transaction inside = table.newTransaction();
    inside.updateProperties().set(TableProperties.WRITE_DATA_LOCATION, T1 + "/files").commit();
    check(inside);
  }

  @Test
  void theTableLocationCannotMoveElsewhere() {
    Transaction away = table.newTransaction();
    away.updateLocation().setLocation("s3://bucket/wh/other/t1").commit();
    assertRefused(() -> check(away), "new location s3://bucket/wh/other/t1");
    Transaction within = table.newTransaction();
    within.updateLocation().setLocation(T1 + "/v2").commit();
    check(within);
  }

  @Test
  void statisticsFilesMustLieUnderTheLocation() {
    table.newAppend().appendFile(dataFile(T1 + "/data/a.parquet")).commit();
    long id = table.currentSnapshot().snapshotId();
    Transaction outside = table.newTransaction();
    outside
        .updateStatistics()
        .setStatistics(new GenericStatisticsFile(id, NS_FOLDER + "/t2/s.stats", 10, 4, List.of()))
        .commit();
    assertRefused(() -> check(outside), "statistics file " + NS_FOLDER + "/t2/s.stats");
    Transaction inside = table.newTransaction();
    inside
        .updateStatistics()
        .setStatistics(new GenericStatisticsFile(id, T1 + "/metadata/s.stats", 10, 4, List.of()))
        .commit();
    check(inside);
  }

  @Test
  void aNewTableLiesStrictlyInsideItsNamespaceFolder() {
    CommitLocations create = new CommitLocations(IDENT, "create", table.io());
    create.checkPlacement(NS_FOLDER + "/t1-0a1b2c3d", Map.of(), NS_FOLDER);
    assertRefused(
        () -> create.checkPlacement(NS_FOLDER, Map.of(), NS_FOLDER), "location " + NS_FOLDER);
    assertRefused(
        () -> create.checkPlacement("s3://bucket/wh/sales_evil/t1", Map.of(), NS_FOLDER),
        "is not under " + NS_FOLDER + "/");
    assertRefused(
        () ->
            create.checkPlacement(
                NS_FOLDER + "/t1",
                Map.of(TableProperties.WRITE_DATA_LOCATION, "s3://bucket/wh/other/t"),
                NS_FOLDER),
        "property write.data.path s3://bucket/wh/other/t");
    assertRefused(
        () -> create.checkMetadataFile("s3://bucket/wh/other/t/v1.metadata.json", NS_FOLDER),
        "metadata file s3://bucket/wh/other/t/v1.metadata.json");
  }

  @Test
  void aNewTablesSnapshotsAreCheckedWhole() {
    table.newAppend().appendFile(dataFile(NS_FOLDER + "/t2/data/stolen.parquet")).commit();
    TableMetadata registered = metadata(table);
    assertRefused(
        () -> new CommitLocations(IDENT, "register", table.io()).check(null, registered, NS_FOLDER),
        "data file " + NS_FOLDER + "/t2/data/stolen.parquet");
  }

  @Test
  void cleanupDeletesOnlyUnderTheRoot() throws Exception {
    FileIO io = table.io();
    String inside = T1 + "/data/a.parquet";
    String outside = NS_FOLDER + "/t2/data/a.parquet";
    for (String path : new String[] {inside, outside}) {
      try (var out = io.newOutputFile(path).create()) {
        out.write(1);
      }
    }
    FileIO owned = CommitLocations.deletingOnlyUnder(io, T1);
    owned.deleteFile(inside);
    owned.deleteFile(outside);
    assertThat(((InMemoryFileIO) io).fileExists(inside)).isFalse();
    assertThat(((InMemoryFileIO) io).fileExists(outside)).isTrue();
  }

  private void check(Transaction tx) {
    TableMetadata base = ((BaseTransaction) tx).startMetadata();
    TableMetadata updated = ((BaseTransaction) tx).currentMetadata();
    new CommitLocations(IDENT, "commit to", table.io()).check(base, updated, NS_FOLDER);
  }

  private static TableMetadata metadata(Table table) {
    return ((HasTableOperations) table).operations().current();
  }

  private static void assertRefused(Executable check, String detail) {
    assertThatThrownBy(check::execute)
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.PERMISSION_DENIED))
        .hasMessageContaining("table sales.t1")
        .hasMessageContaining(detail);
  }

  private static DataFile dataFile(String path) {
    return DataFiles.builder(PartitionSpec.unpartitioned())
        .withPath(path)
        .withFileSizeInBytes(10)
        .withRecordCount(1)
        .withFormat(FileFormat.PARQUET)
        .build();
  }

  private static DeleteFile deleteFile(String path) {
    return FileMetadata.deleteFileBuilder(PartitionSpec.unpartitioned())
        .ofPositionDeletes()
        .withPath(path)
        .withFileSizeInBytes(10)
        .withRecordCount(1)
        .withFormat(FileFormat.PARQUET)
        .build();
  }
}
