package dev.quiver.server.table.filter;

import static dev.quiver.proto.v1.Comparison.Op.EQ;
import static dev.quiver.proto.v1.Comparison.Op.GE;
import static dev.quiver.proto.v1.Comparison.Op.GT;
import static dev.quiver.proto.v1.Comparison.Op.LE;
import static dev.quiver.proto.v1.Comparison.Op.LT;
import static dev.quiver.proto.v1.Comparison.Op.NE;
import static dev.quiver.server.table.filter.TestPredicates.and;
import static dev.quiver.server.table.filter.TestPredicates.compare;
import static dev.quiver.server.table.filter.TestPredicates.filter;
import static dev.quiver.server.table.filter.TestPredicates.isNotNull;
import static dev.quiver.server.table.filter.TestPredicates.isNull;
import static dev.quiver.server.table.filter.TestPredicates.not;
import static dev.quiver.server.table.filter.TestPredicates.of;
import static dev.quiver.server.table.filter.TestPredicates.or;
import static org.apache.iceberg.types.Types.NestedField.optional;
import static org.apache.iceberg.types.Types.NestedField.required;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Predicate;
import java.math.BigDecimal;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.expressions.Evaluator;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Iceberg half of a ScanFilter, bound to an Iceberg schema and evaluated on rows. */
class FilterTranslatorIcebergTest {
  private static final TableId TABLE = TableId.of("sales", "orders");

  /** The Iceberg types FilterTestTable's columns would have (ts_ns needs format v3). */
  private static final Schema ICEBERG_SCHEMA =
      new Schema(
          required(1, "id", Types.LongType.get()),
          optional(2, "small", Types.IntegerType.get()),
          optional(3, "num", Types.IntegerType.get()),
          optional(4, "ratio", Types.FloatType.get()),
          optional(5, "name", Types.StringType.get()),
          optional(6, "day", Types.DateType.get()),
          optional(7, "ts", Types.TimestampType.withoutZone()),
          optional(8, "tstz", Types.TimestampType.withZone()),
          optional(9, "ts_ns", Types.TimestampNanoType.withoutZone()),
          optional(10, "amount", Types.DecimalType.of(18, 2)),
          optional(11, "tags", Types.ListType.ofOptional(12, Types.IntegerType.get())));

  static Stream<Arguments> predicatesAndTheRowsTheyKeep() {
    return Stream.of(
        Arguments.of(compare("num", EQ, of(30)), List.of(2L)),
        Arguments.of(compare("num", NE, of(30)), List.of(0L, 1L, 3L, 5L)),
        Arguments.of(compare("num", LT, of(30)), List.of(0L, 1L)),
        Arguments.of(compare("num", LE, of(30)), List.of(0L, 1L, 2L)),
        Arguments.of(compare("num", GT, of(30)), List.of(3L, 5L)),
        Arguments.of(compare("num", GE, of(30)), List.of(2L, 3L, 5L)),
        Arguments.of(compare("small", LT, of(0)), List.of(0L, 1L)),
        Arguments.of(compare("ratio", GT, of(1.0)), List.of(1L, 2L, 5L)),
        Arguments.of(compare("name", GT, of("c")), List.of(2L, 3L, 5L)),
        Arguments.of(compare("day", GE, of("2024-01-03")), List.of(2L, 3L, 5L)),
        Arguments.of(compare("ts", GE, of("2024-01-01T02:00:00")), List.of(2L, 3L, 5L)),
        Arguments.of(compare("tstz", LT, of("2024-01-01T03:00:00+01:00")), List.of(0L, 1L)),
        Arguments.of(compare("ts_ns", GT, of("2024-01-01T02:59:59.999999")), List.of(3L, 5L)),
        Arguments.of(compare("amount", GT, of("2.5")), List.of(2L, 5L)),
        Arguments.of(compare("amount", EQ, of(2.5)), List.of(1L)),
        Arguments.of(
            and(compare("num", GT, of(10)), compare("name", NE, of("dave"))), List.of(1L, 2L, 5L)),
        Arguments.of(
            or(compare("num", EQ, of(10)), compare("name", EQ, of("eve"))), List.of(0L, 5L)),
        Arguments.of(not(compare("num", LT, of(30))), List.of(2L, 3L, 5L)),
        Arguments.of(
            not(or(compare("id", LT, of(2)), not(compare("id", LE, of(3))))), List.of(2L, 3L)));
  }

  @ParameterizedTest
  @MethodSource("predicatesAndTheRowsTheyKeep")
  void icebergExpressionKeepsTheSameRowsAsTheScan(Predicate predicate, List<Long> expected) {
    Expression iceberg = translate(predicate);

    // Iceberg's row evaluator orders nulls first rather than failing comparisons with null, so
    // only the non-null rows are checked here; nulls are the null checks' business below.
    assertThat(keptIds(iceberg, false)).isEqualTo(expected);
  }

  @Test
  void nullChecksBecomeIcebergNullPredicates() {
    assertThat(keptIds(translate(isNull("num")), true)).containsExactly(4L);
    assertThat(keptIds(translate(isNotNull("num")), true)).containsExactly(0L, 1L, 2L, 3L, 5L);
    assertThat(keptIds(translate(not(isNull("num"))), true)).containsExactly(0L, 1L, 2L, 3L, 5L);
  }

  @Test
  void negationIsPushedDownToTheLeaves() {
    Expression iceberg =
        translate(not(and(compare("num", LT, of(30)), compare("name", EQ, of("bob")))));

    assertThat(iceberg.toString())
        .isEqualTo(
            Expressions.or(
                    Expressions.greaterThanOrEqual("num", 30), Expressions.notEqual("name", "bob"))
                .toString());
  }

  @Test
  void nullCheckOnANestedColumnPrunesNothingUnderAnyNumberOfNots() {
    assertThat(translate(isNull("tags"))).isEqualTo(Expressions.alwaysTrue());
    assertThat(translate(not(isNull("tags")))).isEqualTo(Expressions.alwaysTrue());
    assertThat(translate(and(compare("num", GT, of(30)), not(isNotNull("tags")))).toString())
        .isEqualTo(Expressions.greaterThan("num", 30).toString());
  }

  private static Expression translate(Predicate predicate) {
    return FilterTranslator.translate(TABLE, filter(predicate), FilterTestTable.SCHEMA).iceberg();
  }

  /** The ids of FilterTestTable's rows (the null row only if asked) that {@code iceberg} keeps. */
  private static List<Long> keptIds(Expression iceberg, boolean withNullRow) {
    Evaluator evaluator = new Evaluator(ICEBERG_SCHEMA.asStruct(), iceberg);
    List<Long> kept = new ArrayList<>();
    for (int row = 0; row < FilterTestTable.ROWS; row++) {
      if (row == FilterTestTable.NULL_ROW && !withNullRow) {
        continue;
      }
      if (evaluator.eval(record(row))) {
        kept.add((long) row);
      }
    }
    return kept;
  }

  /** Row {@code row} of FilterTestTable in Iceberg's internal representation. */
  private static GenericRecord record(int row) {
    GenericRecord record = GenericRecord.create(ICEBERG_SCHEMA);
    record.setField("id", (long) row);
    if (row == FilterTestTable.NULL_ROW) {
      return record;
    }
    long micros =
        FilterTestTable.FIRST_TIME.plusHours(row).toEpochSecond(ZoneOffset.UTC) * 1_000_000L;
    record.setField("small", (int) FilterTestTable.SMALL[row]);
    record.setField("num", 10 * (row + 1));
    record.setField("ratio", FilterTestTable.RATIO[row]);
    record.setField("name", FilterTestTable.NAME[row]);
    record.setField("day", (int) FilterTestTable.FIRST_DAY.plusDays(row).toEpochDay());
    record.setField("ts", micros);
    record.setField("tstz", micros);
    record.setField("ts_ns", micros * 1_000L);
    record.setField("amount", new BigDecimal(FilterTestTable.AMOUNT[row]).setScale(2));
    return record;
  }
}
