package dev.quiver.server.table;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.TableOperations;

/**
 * A commit to several tables of a JdbcCatalog at once: each table's new metadata file is written
 * first ({@link #prepare}), then every table's {@code metadata_location} row is swapped in one
 * database transaction with the compare-and-set Iceberg's JdbcTableOperations uses for one table
 * ({@link #swapAll}), so the tables change together or not at all.
 */
final class MultiTableCommit {
  /** Iceberg's own compare-and-set of a table's pointer (JdbcUtil's V1 commit, less the type). */
  private static final String SWAP =
      "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?"
          + " WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
          + " AND metadata_location = ?";

  private MultiTableCommit() {}

  /**
   * One table's pointer swap: from the metadata file its snapshot was made on to the new one.
   *
   * @param snapshotId the new snapshot's id
   */
  record Swap(TableId id, String expectedLocation, String newLocation, long snapshotId) {}

  /**
   * Makes {@code update}'s snapshot on {@code table}'s current metadata (validating it, writing its
   * manifests) and writes the metadata file that makes it current; commits nothing.
   */
  static Swap prepare(TableId id, Table table, SnapshotUpdate<?> update) {
    TableOperations ops = ((HasTableOperations) table).operations();
    Snapshot snapshot = update.apply(); // refreshes the operations, then validates
    TableMetadata base = ops.current();
    TableMetadata next =
        TableMetadata.buildFrom(base).setBranchSnapshot(snapshot, SnapshotRef.MAIN_BRANCH).build();
    String location =
        ops.metadataFileLocation(
            String.format("%05d-%s.metadata.json", version(base) + 1, UUID.randomUUID()));
    TableMetadataParser.write(next, table.io().newOutputFile(location));
    return new Swap(id, base.metadataFileLocation(), location, snapshot.snapshotId());
  }

  /**
   * Swaps every table's pointer in one transaction of {@code connection}: all, or (rolled back)
   * none, COMMIT_CONFLICT naming the first table whose pointer moved since it was read.
   */
  static void swapAll(
      Connection connection, String catalogName, List<Swap> swaps, String transaction)
      throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (PreparedStatement statement = connection.prepareStatement(SWAP)) {
      for (Swap swap : swaps) {
        statement.setString(1, swap.newLocation());
        statement.setString(2, swap.expectedLocation());
        statement.setString(3, catalogName);
        statement.setString(4, swap.id().namespace());
        statement.setString(5, swap.id().name());
        statement.setString(6, swap.expectedLocation());
        if (statement.executeUpdate() != 1) {
          throw new QuiverException(
              QuiverErrorCode.COMMIT_CONFLICT,
              "Cannot commit transaction %s: table %s changed while it committed (another writer"
                  + " committed first); nothing was committed to any table, retry the"
                  + " transaction",
              transaction,
              swap.id());
        }
      }
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        connection.rollback();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** The version number a metadata file's name starts with ({@code 00012-<uuid>...}), else 0. */
  private static int version(TableMetadata metadata) {
    String location = metadata.metadataFileLocation();
    if (location == null) {
      return 0;
    }
    String name = location.substring(location.lastIndexOf('/') + 1);
    int dash = name.indexOf('-');
    try {
      return dash < 0 ? 0 : Integer.parseInt(name.substring(0, dash));
    } catch (NumberFormatException e) {
      return metadata.previousFiles().size();
    }
  }
}
