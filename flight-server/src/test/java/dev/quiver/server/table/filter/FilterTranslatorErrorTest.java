package dev.quiver.server.table.filter;

import static dev.quiver.proto.v1.Comparison.Op.EQ;
import static dev.quiver.proto.v1.Comparison.Op.GT;
import static dev.quiver.server.table.filter.TestPredicates.and;
import static dev.quiver.server.table.filter.TestPredicates.compare;
import static dev.quiver.server.table.filter.TestPredicates.filter;
import static dev.quiver.server.table.filter.TestPredicates.isNull;
import static dev.quiver.server.table.filter.TestPredicates.not;
import static dev.quiver.server.table.filter.TestPredicates.of;
import static dev.quiver.server.table.filter.TestPredicates.or;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.And;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Not;
import dev.quiver.proto.v1.Or;
import dev.quiver.proto.v1.Predicate;
import io.substrait.proto.ExpressionReference;
import io.substrait.proto.ExtendedExpression;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every way a filter can be invalid, each an INVALID_FILTER naming table, column and value. */
class FilterTranslatorErrorTest {
  private static final TableId TABLE = TableId.of("sales", "orders");
  private static final String PREFIX = "Invalid filter on table sales.orders: ";

  static Stream<Arguments> literalsThatDoNotFit() {
    return Stream.of(
        Arguments.of(
            "amount",
            of("abc"),
            "column amount is decimal(18,2) but the literal 'abc' is not a number"),
        Arguments.of(
            "amount",
            of("1.234"),
            "column amount is decimal(18,2) but the literal '1.234' is more precise than the"
                + " column's scale 2"),
        Arguments.of(
            "amount",
            of("12345678901234567"),
            "column amount is decimal(18,2) but the literal '12345678901234567' is out of range"),
        Arguments.of(
            "amount",
            of(Double.POSITIVE_INFINITY),
            "column amount is decimal(18,2) but the literal Infinity is not a finite number"),
        Arguments.of(
            "amount",
            of(true),
            "column amount is decimal(18,2) but the literal true is not a number"),
        Arguments.of("small", of(200), "column small is int8 but the literal 200 is out of range"),
        Arguments.of(
            "short", of(-40_000), "column short is int16 but the literal -40000 is out of range"),
        Arguments.of(
            "num",
            of(3_000_000_000L),
            "column num is int32 but the literal 3000000000 is out of range"),
        Arguments.of(
            "num", of(2.5), "column num is int32 but the literal 2.5 is not a whole number"),
        Arguments.of("id", of(1e19), "column id is int64 but the literal 1.0E19 is out of range"),
        Arguments.of("num", of("7"), "column num is int32 but the literal '7' is not a number"),
        Arguments.of(
            "unsigned", of(-1), "column unsigned is uint8 but the literal -1 is out of range"),
        Arguments.of(
            "unsigned", of(256), "column unsigned is uint8 but the literal 256 is out of range"),
        Arguments.of(
            "ratio", of(1e300), "column ratio is float32 but the literal 1.0E300 is out of range"),
        Arguments.of(
            "score",
            of(Double.NaN),
            "column score is float64 but the literal NaN is NaN, which comparisons do not support"),
        Arguments.of(
            "score", of("1.5"), "column score is float64 but the literal '1.5' is not a number"),
        Arguments.of("active", of(1), "column active is bool but the literal 1 is not a boolean"),
        Arguments.of("name", of(5), "column name is string but the literal 5 is not a string"),
        Arguments.of(
            "payload", of("abc"), "column payload is binary but the literal 'abc' is not binary"),
        Arguments.of(
            "pair",
            of(new byte[] {1, 2, 3}),
            "column pair is fixed_size_binary(2) but the literal 0x010203 is not 2 bytes long"),
        Arguments.of(
            "day",
            of("01/02/2024"),
            "column day is date32 but the literal '01/02/2024' is not an ISO date (yyyy-mm-dd)"),
        Arguments.of(
            "day",
            of(1.5),
            "column day is date32 but the literal 1.5 is not an ISO date or a number of days"
                + " since 1970-01-01"),
        Arguments.of(
            "day",
            of(3_000_000_000L),
            "column day is date32 but the literal 3000000000 is out of range"),
        Arguments.of(
            "ts",
            of("yesterday"),
            "column ts is timestamp[us] but the literal 'yesterday' is not an ISO timestamp"),
        Arguments.of(
            "ts",
            of(true),
            "column ts is timestamp[us] but the literal true is not an ISO timestamp or a number"),
        Arguments.of(
            "ts",
            of("2024-01-01T00:00:00.0000001"),
            "column ts is timestamp[us] but the literal '2024-01-01T00:00:00.0000001' is finer"
                + " than the column's unit us"),
        Arguments.of(
            "ts_ms",
            of("2024-01-01T00:00:00.0005"),
            "column ts_ms is timestamp[ms] but the literal '2024-01-01T00:00:00.0005' is finer"
                + " than the column's unit ms"),
        Arguments.of(
            "ts_ns",
            of("2024-01-01T00:00:00.000000001"),
            "column ts_ns is timestamp[ns] but the literal '2024-01-01T00:00:00.000000001' is"
                + " finer than a microsecond, the finest unit filters support"),
        Arguments.of(
            "ts_ns",
            of(1_500L),
            "column ts_ns is timestamp[ns] but the literal 1500 is finer than a microsecond, the"
                + " finest unit filters support"),
        Arguments.of(
            "ts_ms",
            of(Long.MAX_VALUE),
            "column ts_ms is timestamp[ms] but the literal 9223372036854775807 is out of range"),
        Arguments.of(
            "tstz",
            of("+999999999-12-31T23:59:59Z"),
            "column tstz is timestamp[us, tz=UTC] but the literal '+999999999-12-31T23:59:59Z' is"
                + " out of range"),
        Arguments.of("payload", of(5), "column payload is binary but the literal 5 is not binary"));
  }

  @ParameterizedTest
  @MethodSource("literalsThatDoNotFit")
  void literalThatDoesNotFitItsColumnIsRejected(String column, Literal literal, String message) {
    assertInvalid(filter(compare(column, EQ, literal)), message);
  }

  @Test
  void longLiteralsAreShortenedInMessages() {
    assertInvalid(
        filter(compare("num", EQ, of("x".repeat(100)))),
        "column num is int32 but the literal '" + "x".repeat(64) + "...' is not a number");
    assertInvalid(
        filter(compare("name", EQ, of(new byte[40]))),
        "column name is string but the literal 0x" + "00".repeat(32) + "... is not a string");
  }

  @Test
  void unknownColumnIsRejected() {
    assertInvalid(filter(compare("amout", GT, of(1))), "unknown column 'amout'");
    assertInvalid(filter(isNull("nope")), "unknown column 'nope'");
  }

  @Test
  void comparisonOnAColumnFiltersCannotCompareIsRejectedNamingTheType() {
    assertInvalid(
        filter(compare("label", EQ, of("x"))),
        "column label is large_string, which filters cannot compare with a literal");
    assertInvalid(
        filter(compare("tags", EQ, of(1))),
        "column tags is list<int32>, which filters cannot compare with a literal");
    assertInvalid(
        filter(compare("point", EQ, of(1))),
        "column point is struct<x: int32, y: string>, which filters cannot compare with a literal");
    assertInvalid(
        filter(compare("huge", GT, of(1))),
        "column huge is uint64, which filters cannot compare with a literal");
  }

  @Test
  void comparisonOnAnUnsupportedColumnIsRejectedInsideAnyTree() {
    assertInvalid(
        filter(or(compare("num", GT, of(1)), not(compare("label", EQ, of("x"))))),
        "column label is large_string, which filters cannot compare with a literal");
  }

  @Test
  void emptyAndOrIsRejected() {
    assertInvalid(
        filter(Predicate.newBuilder().setAnd(And.getDefaultInstance()).build()),
        "an And predicate has no terms");
    assertInvalid(
        filter(
            and(
                compare("num", GT, of(1)),
                Predicate.newBuilder().setOr(Or.getDefaultInstance()).build())),
        "an Or predicate has no terms");
  }

  @Test
  void unsetOneofsAreRejected() {
    assertInvalid(
        Filter.getDefaultInstance(), "the filter has neither a predicate nor Substrait bytes");
    assertInvalid(
        filter(Predicate.getDefaultInstance()),
        "a predicate is empty: set one of comparison, and, or, not, is_null, is_not_null");
    assertInvalid(
        filter(Predicate.newBuilder().setNot(Not.getDefaultInstance()).build()),
        "a Not predicate has no term");
    assertInvalid(
        filter(
            Predicate.newBuilder()
                .setComparison(Comparison.newBuilder().setColumn("num").setValue(of(1)))
                .build()),
        "the comparison on column num has no operator");
    assertInvalid(
        filter(
            Predicate.newBuilder()
                .setComparison(Comparison.newBuilder().setColumn("num").setOp(EQ))
                .build()),
        "the comparison on column num has no literal value");
    assertInvalid(
        filter(compare("num", EQ, Literal.getDefaultInstance())),
        "the comparison on column num has no literal value");
  }

  @Test
  void substraitBytesThatDoNotParseAreRejected() {
    assertThatThrownBy(() -> translate(substrait(ByteString.copyFromUtf8("not protobuf"))))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessageStartingWith(
            PREFIX + "the Substrait filter is not a serialized ExtendedExpression: ");
  }

  @Test
  void substraitWithoutExactlyOneExpressionIsRejected() {
    assertInvalid(
        substrait(ByteString.EMPTY),
        "the Substrait filter must hold exactly one expression but holds 0");
    ExtendedExpression one = parse(translatedBytes());
    ExtendedExpression two = one.toBuilder().addReferredExpr(one.getReferredExpr(0)).build();
    assertInvalid(
        substrait(two.toByteString()),
        "the Substrait filter must hold exactly one expression but holds 2");
  }

  @Test
  void substraitWithoutANamedScalarExpressionIsRejected() {
    ExtendedExpression valid = parse(translatedBytes());
    ExtendedExpression unnamed =
        valid.toBuilder()
            .setReferredExpr(0, valid.getReferredExpr(0).toBuilder().clearOutputNames())
            .build();
    ExtendedExpression measure =
        valid.toBuilder().setReferredExpr(0, ExpressionReference.getDefaultInstance()).build();
    assertInvalid(
        substrait(unnamed.toByteString()),
        "the Substrait filter's expression must be a named scalar expression");
    assertInvalid(
        substrait(measure.toByteString()),
        "the Substrait filter's expression must be a named scalar expression");
  }

  @Test
  void substraitOverOtherColumnsIsRejected() {
    ExtendedExpression valid = parse(translatedBytes());
    ExtendedExpression noSchema = valid.toBuilder().clearBaseSchema().build();
    assertInvalid(substrait(noSchema.toByteString()), "the Substrait filter has no base schema");

    Schema otherTable =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("num", new ArrowType.Int(32, true))));
    assertThatThrownBy(
            () -> FilterTranslator.translate(TABLE, substrait(valid.toByteString()), otherTable))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage(
            PREFIX
                + "the Substrait filter's base schema has columns "
                + FilterTestTable.SCHEMA.getFields().stream().map(Field::getName).toList()
                + " but the table has [id, num]; serialize it against the table's full schema");
  }

  private static ByteString translatedBytes() {
    ByteBuffer buffer =
        FilterTranslator.translate(TABLE, filter(compare("num", GT, of(1))), FilterTestTable.SCHEMA)
            .substrait();
    return ByteString.copyFrom(buffer);
  }

  private static ExtendedExpression parse(ByteString bytes) {
    try {
      return ExtendedExpression.parseFrom(bytes);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Filter substrait(ByteString bytes) {
    return Filter.newBuilder().setSubstrait(bytes).build();
  }

  private static ScanFilter translate(Filter filter) {
    return FilterTranslator.translate(TABLE, filter, FilterTestTable.SCHEMA);
  }

  private static void assertInvalid(Filter filter, String message) {
    assertThatThrownBy(() -> translate(filter))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_FILTER))
        .hasMessage(PREFIX + message);
  }
}
