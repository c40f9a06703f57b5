package dev.quiver.server.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.security.SecureServers;
import dev.quiver.server.table.LocalFileIO;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.rest.RESTCatalog;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A REST client with write on one namespace cannot commit files outside its table's location: each
 * kind of path is refused with 403, nothing is committed, and a proper commit still lands.
 */
@ExtendWith(ArrowAllocatorExtension.class)
@Timeout(120)
class RestLocationsTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();
  @TempDir Path dir;

  private final TableIdentifier ordersId = TableIdentifier.of("sales", "orders");
  private QuiverServer server;
  private Table payroll;

  @BeforeEach
  void start() throws Exception {
    Map<String, String> grants = new LinkedHashMap<>();
    grants.put("alice", "sales=read,write");
    grants.put("ops", "*=read,write");
    server =
        servers.start(
            dir.resolve("data"),
            "catalog.rest-port",
            "0",
            "security.users-file",
            SecureServers.usersFile(dir, grants).toString());
    try (RESTCatalog ops = client("ops")) {
      ops.createNamespace(Namespace.of("hr"), new HashMap<>());
      ops.createNamespace(Namespace.of("sales"), new HashMap<>());
      payroll = ops.createTable(TableIdentifier.of("hr", "payroll"), RestCatalogTest.SCHEMA);
      payroll.newAppend().appendFile(RestCatalogTest.dataFile(payroll, "salaries", 10)).commit();
    }
  }

  private RESTCatalog client(String user) {
    return RestCatalogTest.client(
        server, Map.of("credential", user + ":" + SecureServers.password(user)));
  }

  @Test
  void dataFilesOutsideTheTableAreForbidden() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.parquet"), "not the client's");
    try (RESTCatalog alice = client("alice")) {
      Table orders = alice.createTable(ordersId, RestCatalogTest.SCHEMA);
      orders.newAppend().appendFile(RestCatalogTest.dataFile(orders, "a", 7)).commit();
      long before = snapshotId(alice);
      String loc = orders.location();
      String folder = loc.substring(loc.lastIndexOf('/') + 1);

      String otherTable = payroll.location() + "/data/salaries.parquet";
      String dotDot = loc + "/../../hr/" + folder + "/data/x.parquet";
      String sibling = loc + "_evil/data/x.parquet";
      for (String path :
          new String[] {otherTable, dotDot, sibling, "/etc/passwd", secret.toUri().toString()}) {
        Table fresh = alice.loadTable(ordersId);
        assertThatThrownBy(() -> fresh.newAppend().appendFile(file(path)).commit())
            .as(path)
            .isInstanceOf(ForbiddenException.class)
            .hasMessageContaining("Cannot commit to table sales.orders: its data file " + path)
            .hasMessageContaining("is not under " + loc + "/");
        assertThat(snapshotId(alice)).as("nothing committed for %s", path).isEqualTo(before);
      }

      Table fresh = alice.loadTable(ordersId);
      fresh.newAppend().appendFile(RestCatalogTest.dataFile(fresh, "b", 5)).commit();
      assertThat(snapshotId(alice)).as("a proper commit still lands").isNotEqualTo(before);
      assertThat(RestCatalogTest.totalRecords(alice.loadTable(ordersId))).isEqualTo(12);

      assertThat(alice.dropTable(ordersId, true)).isTrue();
      assertThat(secret).as("a file outside is never Quiver's to delete").exists();
    }
  }

  @Test
  void theTableLocationAndWritePathsCannotLeaveTheTable() throws Exception {
    try (RESTCatalog alice = client("alice")) {
      Table orders = alice.createTable(ordersId, RestCatalogTest.SCHEMA);
      orders.newAppend().appendFile(RestCatalogTest.dataFile(orders, "a", 7)).commit();
      long before = snapshotId(alice);
      String loc = orders.location();

      assertThatThrownBy(() -> orders.updateLocation().setLocation(payroll.location()).commit())
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("its new location " + payroll.location() + " is not under " + loc);
      String elsewhere = payroll.location() + "/data";
      assertThatThrownBy(
              () ->
                  alice
                      .loadTable(ordersId)
                      .updateProperties()
                      .set(TableProperties.WRITE_DATA_LOCATION, elsewhere)
                      .commit())
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("its property write.data.path " + elsewhere + " is not under");
      Table after = alice.loadTable(ordersId);
      assertThat(after.location()).isEqualTo(loc);
      assertThat(after.properties()).doesNotContainKey(TableProperties.WRITE_DATA_LOCATION);
      assertThat(after.currentSnapshot().snapshotId()).isEqualTo(before);

      assertThatThrownBy(
              () ->
                  alice
                      .buildTable(TableIdentifier.of("sales", "moved"), RestCatalogTest.SCHEMA)
                      .withLocation(payroll.location() + "_copy")
                      .create())
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("Cannot create table sales.moved: its location")
          .hasMessageContaining("/warehouse/sales/");

      after.updateProperties().set(TableProperties.WRITE_DATA_LOCATION, loc + "/files").commit();
      assertThat(alice.loadTable(ordersId).properties())
          .as("a write path under the table's location is fine")
          .containsEntry(TableProperties.WRITE_DATA_LOCATION, loc + "/files");
    }
  }

  @Test
  void registersAndStagedCreatesStayInTheirNamespace() throws Exception {
    String payrollMetadata =
        ((HasTableOperations) payroll).operations().current().metadataFileLocation();
    try (RESTCatalog alice = client("alice")) {
      TableIdentifier stolen = TableIdentifier.of("sales", "stolen");
      assertThatThrownBy(() -> alice.registerTable(stolen, payrollMetadata))
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining(
              "Cannot register table sales.stolen: its metadata file " + payrollMetadata)
          .hasMessageContaining("/warehouse/sales/");
      assertThat(alice.tableExists(stolen)).isFalse();

      // A create transaction (what a CTAS sends) whose data lies in another table's folder.
      TableIdentifier ctas = TableIdentifier.of("sales", "ctas");
      Transaction create = alice.buildTable(ctas, RestCatalogTest.SCHEMA).createTransaction();
      String otherTable = payroll.location() + "/data/salaries.parquet";
      create.newAppend().appendFile(file(otherTable)).commit();
      assertThatThrownBy(create::commitTransaction)
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("Cannot create table sales.ctas: its data file " + otherTable);
      assertThat(alice.tableExists(ctas)).isFalse();

      Transaction proper = alice.buildTable(ctas, RestCatalogTest.SCHEMA).createTransaction();
      proper.newAppend().appendFile(RestCatalogTest.dataFile(proper.table(), "c", 3)).commit();
      proper.commitTransaction();
      assertThat(RestCatalogTest.totalRecords(alice.loadTable(ctas))).isEqualTo(3);
    }
    assertThat(LocalFileIO.toPath(payrollMetadata)).as("payroll's metadata untouched").exists();
  }

  private long snapshotId(RESTCatalog catalog) {
    return catalog.loadTable(ordersId).currentSnapshot().snapshotId();
  }

  private static org.apache.iceberg.DataFile file(String path) {
    return DataFiles.builder(PartitionSpec.unpartitioned())
        .withPath(path)
        .withFileSizeInBytes(1024)
        .withRecordCount(1)
        .withFormat(FileFormat.PARQUET)
        .build();
  }
}
