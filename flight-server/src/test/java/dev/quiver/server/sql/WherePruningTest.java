package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import org.apache.iceberg.Schema;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What of a SQL condition becomes an Iceberg expression: only what it implies exactly. */
class WherePruningTest {
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.optional(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "Label", Types.StringType.get()),
          Types.NestedField.optional(3, "amount", Types.DecimalType.of(10, 2)),
          Types.NestedField.optional(4, "ratio", Types.DoubleType.get()));

  private Connection duckdb;

  @BeforeEach
  void open() throws Exception {
    duckdb = DriverManager.getConnection("jdbc:duckdb:");
  }

  @AfterEach
  void close() throws Exception {
    duckdb.close();
  }

  @Test
  void comparisonsOfColumnsWithLiteralsTranslate() {
    assertThat(text("id < 5")).isEqualTo(Expressions.lessThan("id", 5L).toString());
    assertThat(text("5 < id")).isEqualTo(Expressions.greaterThan("id", 5L).toString());
    assertThat(text("label = 'a'")).isEqualTo(Expressions.equal("Label", "a").toString());
    assertThat(text("id IN (1, 2)")).isEqualTo(Expressions.in("id", 1L, 2L).toString());
    assertThat(text("ratio IS NULL")).isEqualTo(Expressions.isNull("ratio").toString());
    assertThat(text("amount = 1.5"))
        .isEqualTo(Expressions.equal("amount", new java.math.BigDecimal("1.50")).toString());
    assertThat(text("id BETWEEN 1 AND 3"))
        .isEqualTo(
            Expressions.and(
                    Expressions.greaterThanOrEqual("id", 1L), Expressions.lessThanOrEqual("id", 3L))
                .toString());
  }

  @Test
  void anAndKeepsWhatTranslatesAndAnOrNeedsEveryTerm() {
    assertThat(text("id < 5 AND label LIKE 'x%'"))
        .isEqualTo(Expressions.lessThan("id", 5L).toString());
    assertThat(text("id < 5 OR id > 10"))
        .isEqualTo(
            Expressions.or(Expressions.lessThan("id", 5L), Expressions.greaterThan("id", 10L))
                .toString());
    assertThat(text("id < 5 OR label LIKE 'x%'")).isEqualTo("true");
  }

  @Test
  void whatMightNotMeanTheSameInIcebergDoesNotTranslate() {
    assertThat(text("NOT id = 1")).isEqualTo("true");
    assertThat(text("id = '1'")).isEqualTo("true"); // DuckDB casts; Iceberg would not
    assertThat(text("amount = 1.005")).isEqualTo("true"); // finer than the column's scale
    assertThat(text("t.id = 1")).isEqualTo("true"); // qualified: may be another relation's
    assertThat(text("id = ?")).isEqualTo("true");
    assertThat(text("nope = 1")).isEqualTo("true");
    assertThat(text("id <")).isEqualTo("true"); // DuckDB reports the syntax error itself
  }

  private String text(String condition) {
    Expression expression = WherePruning.of(duckdb, condition, SCHEMA);
    return expression.toString();
  }
}
