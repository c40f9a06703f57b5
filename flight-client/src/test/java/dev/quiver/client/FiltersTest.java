package dev.quiver.client;

import static dev.quiver.client.Filters.and;
import static dev.quiver.client.Filters.eq;
import static dev.quiver.client.Filters.ge;
import static dev.quiver.client.Filters.gt;
import static dev.quiver.client.Filters.isNotNull;
import static dev.quiver.client.Filters.isNull;
import static dev.quiver.client.Filters.le;
import static dev.quiver.client.Filters.lt;
import static dev.quiver.client.Filters.ne;
import static dev.quiver.client.Filters.not;
import static dev.quiver.client.Filters.or;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Predicate;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class FiltersTest {
  @Test
  void comparisonsCarryColumnOperatorAndLiteral() {
    assertThat(eq("x", 5).getComparison())
        .isEqualTo(
            Comparison.newBuilder()
                .setColumn("x")
                .setOp(Comparison.Op.EQ)
                .setValue(Literal.newBuilder().setLongValue(5))
                .build());
    assertThat(ne("x", 1).getComparison().getOp()).isEqualTo(Comparison.Op.NE);
    assertThat(lt("x", 1).getComparison().getOp()).isEqualTo(Comparison.Op.LT);
    assertThat(le("x", 1).getComparison().getOp()).isEqualTo(Comparison.Op.LE);
    assertThat(gt("x", 1).getComparison().getOp()).isEqualTo(Comparison.Op.GT);
    assertThat(ge("x", 1).getComparison().getOp()).isEqualTo(Comparison.Op.GE);
  }

  @Test
  void literalsTakeTheWireTypeOfTheJavaValue() {
    assertThat(Filters.literal(true).getBoolValue()).isTrue();
    assertThat(Filters.literal((byte) 3).getLongValue()).isEqualTo(3);
    assertThat(Filters.literal((short) 4).getLongValue()).isEqualTo(4);
    assertThat(Filters.literal(5).getLongValue()).isEqualTo(5);
    assertThat(Filters.literal(6L).getLongValue()).isEqualTo(6);
    assertThat(Filters.literal(1.5f).getDoubleValue()).isEqualTo(1.5);
    assertThat(Filters.literal(2.5).getDoubleValue()).isEqualTo(2.5);
    assertThat(Filters.literal("a").getStringValue()).isEqualTo("a");
    assertThat(Filters.literal(new byte[] {1, 2}).getBinaryValue())
        .isEqualTo(ByteString.copyFrom(new byte[] {1, 2}));
  }

  @Test
  void treesNestAsWritten() {
    Predicate tree = and(gt("amount", 100), or(isNull("note"), not(eq("status", "void"))));

    assertThat(tree.getAnd().getTermsList()).hasSize(2);
    assertThat(tree.getAnd().getTerms(0)).isEqualTo(gt("amount", 100));
    Predicate either = tree.getAnd().getTerms(1);
    assertThat(either.getOr().getTerms(0).getIsNull()).isEqualTo("note");
    assertThat(either.getOr().getTerms(1).getNot().getTerm()).isEqualTo(eq("status", "void"));
    assertThat(isNotNull("note").getIsNotNull()).isEqualTo("note");
  }

  @Test
  void filtersWrapAPredicateOrSubstraitBytes() {
    assertThat(Filters.predicate(eq("x", 1)).getKindCase()).isEqualTo(Filter.KindCase.PREDICATE);
    byte[] expression = {10, 20, 30};
    Filter substrait = Filters.substrait(expression);
    expression[0] = 0;

    assertThat(substrait.getSubstrait().toByteArray()).containsExactly(10, 20, 30);
  }

  @Test
  void unsupportedLiteralIsRejected() {
    assertThatThrownBy(() -> eq("price", new BigDecimal("1.50")))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage(
            "Cannot use java.math.BigDecimal 1.50 as a filter literal: use a boolean, integer,"
                + " floating-point number, string or byte[]");
    assertThatThrownBy(() -> eq("price", null))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessageStartingWith("Cannot use null (use isNull) as a filter literal");
  }

  @Test
  void emptyConnectivesColumnsAndSubstraitAreRejected() {
    assertThatThrownBy(() -> and())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage("and() needs at least one term");
    assertThatThrownBy(() -> or())
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage("or() needs at least one term");
    assertThatThrownBy(() -> isNull(""))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage("A filter column name must be non-empty but was ''");
    assertThatThrownBy(() -> Filters.substrait(new byte[0]))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage("A Substrait filter needs a non-empty expression");
  }
}
