package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.TableId;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which statements are bound inserts, whose parameter rows go to the table in one commit. */
class BoundInsertTest {
  @Test
  void insertValuesOfPlaceholdersIsABoundInsert() {
    assertThat(BoundInsert.Frame.parse("INSERT INTO ns.t VALUES (?, ?, ?)", ""))
        .contains(new BoundInsert.Frame(TableId.of("ns", "t"), List.of(), 3));
    assertThat(BoundInsert.Frame.parse("insert into t values(?)", "ns"))
        .contains(new BoundInsert.Frame(TableId.of("ns", "t"), List.of(), 1));
    assertThat(
            BoundInsert.Frame.parse(
                "INSERT INTO quiver.ns.\"T\" /* c */ (\"b\", a) -- x\n VALUES ( ? ,? )", ""))
        .contains(new BoundInsert.Frame(TableId.of("ns", "T"), List.of("b", "a"), 2));
  }

  @Test
  void anythingElseIsNot() {
    for (String sql :
        List.of(
            "INSERT INTO ns.t VALUES (?, 1)",
            "INSERT INTO ns.t VALUES (?), (?)",
            "INSERT INTO ns.t VALUES ($1)",
            "INSERT INTO ns.t SELECT ?",
            "INSERT INTO ns.t (SELECT ?)",
            "INSERT INTO ns.t (a.b) VALUES (?)",
            "INSERT INTO ns.t VALUES (?) RETURNING *",
            "INSERT INTO ns.t VALUES (?",
            "INSERT OR REPLACE INTO ns.t VALUES (?)",
            "SELECT ?")) {
      assertThat(BoundInsert.Frame.parse(sql, "")).as(sql).isEqualTo(Optional.empty());
    }
  }
}
