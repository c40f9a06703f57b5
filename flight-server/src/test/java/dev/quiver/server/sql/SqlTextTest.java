package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlTextTest {
  @Test
  void statementKindsReadTheLeadingKeywords() {
    assertThat(StatementKind.of("  -- comment\n select 1")).isEqualTo(StatementKind.QUERY);
    assertThat(StatementKind.of("/* c */ WITH x AS (SELECT 1) SELECT * FROM x"))
        .isEqualTo(StatementKind.QUERY);
    assertThat(StatementKind.of("(SELECT 1)")).isEqualTo(StatementKind.QUERY);
    assertThat(StatementKind.of("insert into a.b values (1)")).isEqualTo(StatementKind.INSERT);
    assertThat(StatementKind.of("CREATE TABLE a.b (x INT)")).isEqualTo(StatementKind.CREATE_TABLE);
    assertThat(StatementKind.of("CREATE VIEW a.b AS SELECT 1")).isEqualTo(StatementKind.OTHER);
    assertThat(StatementKind.of("DROP TABLE IF EXISTS a.b")).isEqualTo(StatementKind.DROP_TABLE);
    assertThat(StatementKind.of("UPDATE a.b SET x = 1")).isEqualTo(StatementKind.UPDATE);
    assertThat(StatementKind.of("delete from a.b")).isEqualTo(StatementKind.DELETE);
    assertThat(StatementKind.of("MERGE INTO a.b USING c ON true WHEN MATCHED THEN DELETE"))
        .isEqualTo(StatementKind.MERGE);
    assertThat(StatementKind.of("ALTER TABLE a.b ADD x INT")).isEqualTo(StatementKind.ALTER_TABLE);
    assertThat(StatementKind.of("ALTER VIEW a.b RENAME TO c")).isEqualTo(StatementKind.OTHER);
    assertThat(StatementKind.of("SET threads = 1")).isEqualTo(StatementKind.OTHER);
  }

  @Test
  void namesAreReadWithQuotesAndDots() {
    String sql = "INSERT INTO quiver . \"my \"\"ns\" .t_1 VALUES (1)";
    int start = SqlText.afterKeywords(sql, 0, "INSERT", "INTO");

    SqlText.Name name = SqlText.readName(sql, start);

    assertThat(name.parts()).containsExactly("quiver", "my \"ns", "t_1");
    assertThat(sql.substring(name.end())).isEqualTo(" VALUES (1)");
  }

  @Test
  void keywordsMustBeWholeWords() {
    assertThat(SqlText.afterKeywords("CREATE TABLE IF NOT EXISTS t", 12, "IF", "NOT", "EXISTS"))
        .isEqualTo(26);
    assertThat(SqlText.afterKeywords("CREATE TABLE IFFY", 12, "IF")).isEqualTo(-1);
  }

  @Test
  void topLevelKeywordsAndCommasSkipStringsQuotesAndParentheses() {
    String sql = "SET a = 'x WHERE y', \"where\" = (SELECT 1 WHERE true), c = 2 WHERE d = ','";

    int where = SqlText.topLevelKeyword(sql, 0, "WHERE");

    assertThat(sql.substring(where)).isEqualTo("WHERE d = ','");
    assertThat(SqlText.splitTopLevel(sql.substring(4, where), ','))
        .containsExactly("a = 'x WHERE y'", " \"where\" = (SELECT 1 WHERE true)", " c = 2 ");
    assertThat(SqlText.topLevelKeyword("SELECT nowhere", 0, "WHERE")).isEqualTo(-1);
  }

  @Test
  void duckDbTypeNamesMapToArrow() {
    assertThat(DuckDbTypes.arrowType("DECIMAL(18,2)").toString()).isEqualTo("Decimal(18, 2, 128)");
    assertThat(DuckDbTypes.arrowType("TIMESTAMP WITH TIME ZONE").toString())
        .isEqualTo("Timestamp(MICROSECOND, UTC)");
    assertThat(DuckDbTypes.arrowType("UNKNOWN")).isNull();
    assertThat(List.of("BIGINT", "VARCHAR", "DOUBLE").stream().map(DuckDbTypes::arrowType))
        .extracting(Object::toString)
        .containsExactly("Int(64, true)", "Utf8", "FloatingPoint(DOUBLE)");
  }
}
