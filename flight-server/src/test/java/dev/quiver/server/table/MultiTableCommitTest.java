package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pointer swap of a multi-table commit, on a real SQLite catalog table. */
class MultiTableCommitTest {
  @TempDir Path dir;

  @Test
  void everyPointerSwapsOrNone() throws Exception {
    try (Connection connection =
        DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("catalog.db"))) {
      try (Statement create = connection.createStatement()) {
        create.execute(
            "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255), table_namespace"
                + " VARCHAR(255), table_name VARCHAR(255), metadata_location VARCHAR(1000),"
                + " previous_metadata_location VARCHAR(1000), iceberg_type VARCHAR(5))");
        create.execute(
            "INSERT INTO iceberg_tables VALUES ('quiver', 'ns', 'a', 'a1', NULL, 'TABLE'),"
                + " ('quiver', 'ns', 'b', 'b1', NULL, 'TABLE')");
      }
      MultiTableCommit.Swap a = new MultiTableCommit.Swap(TableId.of("ns", "a"), "a1", "a2", 1);
      MultiTableCommit.Swap bMoved =
          new MultiTableCommit.Swap(TableId.of("ns", "b"), "b0", "b2", 2);

      assertThatThrownBy(
              () -> MultiTableCommit.swapAll(connection, "quiver", List.of(a, bMoved), "tx-1"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.COMMIT_CONFLICT))
          .hasMessageContaining(
              "Cannot commit transaction tx-1: table ns.b changed while it committed");
      assertThat(pointers(connection)).containsExactly("a1", "b1");
      assertThat(connection.getAutoCommit()).isTrue();

      MultiTableCommit.Swap b = new MultiTableCommit.Swap(TableId.of("ns", "b"), "b1", "b2", 2);
      MultiTableCommit.swapAll(connection, "quiver", List.of(a, b), "tx-2");
      assertThat(pointers(connection)).containsExactly("a2", "b2");
    }
  }

  private static List<String> pointers(Connection connection) throws Exception {
    List<String> out = new ArrayList<>();
    try (Statement query = connection.createStatement();
        ResultSet rows =
            query.executeQuery(
                "SELECT metadata_location FROM iceberg_tables ORDER BY table_name")) {
      while (rows.next()) {
        out.add(rows.getString(1));
      }
    }
    return out;
  }
}
