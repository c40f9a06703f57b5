package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StandardTypeNamesTest {
  @Test
  void standardNamesDuckDbLacksBecomeItsOwn() {
    assertThat(
            StandardTypeNames.toDuckDb(
                "(a INT, b CLOB, c BINARY LARGE OBJECT NOT NULL, d character large object,"
                    + " e VARBINARY(16), f LONGVARCHAR, g NCLOB, h BINARY VARYING (8))"))
        .isEqualTo(
            "(a INT, b VARCHAR, c BLOB NOT NULL, d VARCHAR, e BLOB, f VARCHAR, g VARCHAR,"
                + " h BLOB)");
  }

  @Test
  void namesDuckDbKnowsAndColumnNamesAreLeftAlone() {
    String known =
        "(clob INT, \"BLOB, x\" VARCHAR(20), d CHARACTER VARYING(5), e DOUBLE PRECISION,"
            + " f NUMERIC(10,2) DEFAULT 'CLOB', g TIMESTAMP WITH TIME ZONE, PRIMARY KEY (clob))";
    assertThat(StandardTypeNames.toDuckDb(known)).isEqualTo(known);
    assertThat(StandardTypeNames.toDuckDb("AS SELECT 1 AS clob")).isEqualTo("AS SELECT 1 AS clob");
  }
}
