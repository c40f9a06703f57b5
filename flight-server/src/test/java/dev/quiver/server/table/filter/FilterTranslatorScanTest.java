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
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.server.sql.SqlTableScan;
import dev.quiver.server.table.TestSqlEngine;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.expressions.Expressions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Translated filters applied to a real Parquet file by arrow-dataset (Substrait) and by DuckDB (the
 * SQL condition DoGet runs); both must keep the same rows.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class FilterTranslatorScanTest {
  private static final TableId TABLE = TableId.of("sales", "orders");

  @TempDir static Path tempDir;

  // arrow-dataset's writer may release the exported stream after write() returns, so the writing
  // allocator lives for the whole class and is checked for leaks (by close()) at the end.
  private static BufferAllocator writeAllocator;
  private static Path table;
  private static TestSqlEngine sql;

  @BeforeAll
  static void writeTable() throws Exception {
    writeAllocator = new RootAllocator();
    table = tempDir.resolve("orders");
    FilterTestTable.write(writeAllocator, table);
    sql = new TestSqlEngine(tempDir, writeAllocator);
  }

  @AfterAll
  static void closeWriteAllocator() throws Exception {
    sql.close();
    writeAllocator.close();
  }

  @Test
  void everyComparisonOperatorKeepsTheMatchingRows(BufferAllocator allocator) throws Exception {
    // num is 10, 20, 30, 40, null, 60
    assertThat(scan(allocator, compare("num", EQ, of(30)))).containsExactly(2L);
    assertThat(scan(allocator, compare("num", NE, of(30)))).containsExactly(0L, 1L, 3L, 5L);
    assertThat(scan(allocator, compare("num", LT, of(30)))).containsExactly(0L, 1L);
    assertThat(scan(allocator, compare("num", LE, of(30)))).containsExactly(0L, 1L, 2L);
    assertThat(scan(allocator, compare("num", GT, of(30)))).containsExactly(3L, 5L);
    assertThat(scan(allocator, compare("num", GE, of(30)))).containsExactly(2L, 3L, 5L);
  }

  @Test
  void integerColumnsOfEveryWidthCompareWithLongLiterals(BufferAllocator allocator)
      throws Exception {
    // small is -100, -1, 0, 1, null, 100; short is 100 times that; big is (id - 2) * 5e9
    assertThat(scan(allocator, compare("small", LT, of(0)))).containsExactly(0L, 1L);
    assertThat(scan(allocator, compare("short", GE, of(100)))).containsExactly(3L, 5L);
    assertThat(scan(allocator, compare("big", GT, of(5_000_000_000L)))).containsExactly(5L);
    assertThat(scan(allocator, compare("id", EQ, of(3.0)))).containsExactly(3L);
    // unsigned is 0, 1, 200, 255, null, 7 in a uint8 column
    assertThat(scan(allocator, compare("unsigned", GT, of(100)))).containsExactly(2L, 3L);
  }

  @Test
  void floatingPointColumnsCompareWithDoubleAndLongLiterals(BufferAllocator allocator)
      throws Exception {
    // ratio (float32) is 0.5, 1.5, 2.5, -1, null, 3.25; score (float64) is 0.1, 0.2, 0.3, 1e10,
    // null, -2.5
    assertThat(scan(allocator, compare("ratio", GT, of(1.0)))).containsExactly(1L, 2L, 5L);
    assertThat(scan(allocator, compare("ratio", EQ, of(1.5)))).containsExactly(1L);
    assertThat(scan(allocator, compare("score", LT, of(0.25)))).containsExactly(0L, 1L, 5L);
    assertThat(scan(allocator, compare("score", GE, of(1)))).containsExactly(3L);
  }

  @Test
  void boolStringAndBinaryColumnsCompare(BufferAllocator allocator) throws Exception {
    // active is true on even ids (null on 4); name is alice, bob, carol, dave, null, eve
    assertThat(scan(allocator, compare("active", EQ, of(true)))).containsExactly(0L, 2L);
    assertThat(scan(allocator, compare("name", EQ, of("carol")))).containsExactly(2L);
    assertThat(scan(allocator, compare("name", GT, of("c")))).containsExactly(2L, 3L, 5L);
    assertThat(scan(allocator, compare("payload", EQ, of(new byte[] {1, 2})))).containsExactly(2L);
    assertThat(scan(allocator, compare("pair", EQ, of(new byte[] {3, 9})))).containsExactly(3L);
  }

  @Test
  void dateColumnComparesWithIsoDatesAndEpochDays(BufferAllocator allocator) throws Exception {
    // day is 2024-01-01 plus id days
    assertThat(scan(allocator, compare("day", GE, of("2024-01-03")))).containsExactly(2L, 3L, 5L);
    long secondDay = LocalDate.of(2024, 1, 2).toEpochDay();
    assertThat(scan(allocator, compare("day", EQ, of(secondDay)))).containsExactly(1L);
  }

  @Test
  void timestampColumnsCompareWithIsoStringsAndNumbersInTheirUnit(BufferAllocator allocator)
      throws Exception {
    // every timestamp column is 2024-01-01T00:00 plus id hours
    assertThat(scan(allocator, compare("ts", GE, of("2024-01-01T02:00:00"))))
        .containsExactly(2L, 3L, 5L);
    assertThat(scan(allocator, compare("tstz", LT, of("2024-01-01T02:00:00Z"))))
        .containsExactly(0L, 1L);
    assertThat(scan(allocator, compare("tstz", EQ, of("2024-01-01T03:00:00+01:00"))))
        .containsExactly(2L);
    long thirdHourMicros =
        LocalDateTime.of(2024, 1, 1, 3, 0).toEpochSecond(ZoneOffset.UTC) * 1_000_000L;
    assertThat(scan(allocator, compare("ts", EQ, of(thirdHourMicros)))).containsExactly(3L);
    assertThat(scan(allocator, compare("ts_ms", LE, of("2024-01-01T01:00:00"))))
        .containsExactly(0L, 1L);
    assertThat(scan(allocator, compare("ts_ms", EQ, of(thirdHourMicros / 1_000L))))
        .containsExactly(3L);
    assertThat(scan(allocator, compare("ts_ns", EQ, of(thirdHourMicros * 1_000L))))
        .containsExactly(3L);
    assertThat(scan(allocator, compare("ts", GT, of(Long.MIN_VALUE))))
        .containsExactly(0L, 1L, 2L, 3L, 5L);
    assertThat(scan(allocator, compare("tsny", GE, of("2024-01-01T02:00:00Z"))))
        .containsExactly(2L, 3L, 5L);
    assertThat(scan(allocator, compare("ts_ns", GT, of("2024-01-01T02:59:59.999999"))))
        .containsExactly(3L, 5L);
  }

  @Test
  void decimalColumnComparesWithStringLongAndDoubleLiterals(BufferAllocator allocator)
      throws Exception {
    // amount is 1.00, 2.50, 3.75, -4.00, null, 100.01
    assertThat(scan(allocator, compare("amount", GT, of("2.5")))).containsExactly(2L, 5L);
    assertThat(scan(allocator, compare("amount", EQ, of(2.5)))).containsExactly(1L);
    assertThat(scan(allocator, compare("amount", LT, of(0)))).containsExactly(3L);
    assertThat(scan(allocator, compare("amount", EQ, of("100.01")))).containsExactly(5L);
  }

  @Test
  void andOrAndNotCombineTerms(BufferAllocator allocator) throws Exception {
    Predicate numAbove10 = compare("num", GT, of(10));
    Predicate notDave = compare("name", NE, of("dave"));
    assertThat(scan(allocator, and(numAbove10, notDave))).containsExactly(1L, 2L, 5L);
    assertThat(scan(allocator, and(numAbove10, notDave, compare("active", EQ, of(true)))))
        .containsExactly(2L);
    assertThat(scan(allocator, or(compare("num", EQ, of(10)), compare("name", EQ, of("eve")))))
        .containsExactly(0L, 5L);
    assertThat(
            scan(
                allocator,
                or(compare("id", EQ, of(0)), compare("id", EQ, of(1)), compare("id", EQ, of(5)))))
        .containsExactly(0L, 1L, 5L);
    assertThat(scan(allocator, not(compare("num", LT, of(30))))).containsExactly(2L, 3L, 5L);
    assertThat(scan(allocator, and(compare("num", GT, of(10))))).containsExactly(1L, 2L, 3L, 5L);
    assertThat(scan(allocator, not(or(compare("id", LT, of(2)), compare("id", GT, of(3))))))
        .containsExactly(2L, 3L);
  }

  @Test
  void nullChecksWorkOnEveryColumnIncludingOnesFiltersCannotCompare(BufferAllocator allocator)
      throws Exception {
    assertThat(scan(allocator, isNull("num"))).containsExactly(4L);
    assertThat(scan(allocator, isNotNull("num"))).containsExactly(0L, 1L, 2L, 3L, 5L);
    assertThat(scan(allocator, isNull("id"))).isEmpty();
    assertThat(scan(allocator, isNull("label"))).containsExactly(4L);
    assertThat(scan(allocator, isNull("code"))).isEmpty();
    assertThat(scan(allocator, isNotNull("tags"))).containsExactly(0L, 1L, 2L, 3L, 5L);
    assertThat(scan(allocator, isNull("unsigned"))).containsExactly(4L);
    assertThat(scan(allocator, isNull("point"))).containsExactly(4L);
    assertThat(scan(allocator, isNotNull("huge"))).containsExactly(0L, 1L, 2L, 3L, 5L);
  }

  @Test
  void rawSubstraitFilterThatAPredicateCanSayRunsInDuckDbAndPrunes(BufferAllocator allocator)
      throws Exception {
    for (Predicate predicate :
        List.of(
            compare("name", EQ, of("bob")),
            or(compare("num", GE, of(40)), not(compare("score", LT, of(0.25)))),
            and(isNotNull("small"), compare("active", EQ, of(true)), compare("ratio", GT, of(1.0))),
            isNull("label"))) {
      byte[] serialized = substraitOf(predicate);
      ScanFilter raw =
          FilterTranslator.translate(
              TABLE,
              Filter.newBuilder().setSubstrait(ByteString.copyFrom(serialized)).build(),
              FilterTestTable.SCHEMA);

      assertThat(raw.sql()).as("%s", predicate).isNotNull();
      assertThat(raw.substrait()).isEqualTo(ByteBuffer.wrap(serialized));
      List<Long> arrowIds = FilterTestTable.scanIds(allocator, table, raw);
      assertThat(sqlIds(raw.sql())).as("%s", predicate).isEqualTo(arrowIds);
      assertThat(arrowIds).isEqualTo(scan(allocator, predicate));
    }
  }

  @Test
  void rawSubstraitFilterThatAPredicateCannotSayIsPassedThroughAndPrunesNothing(
      BufferAllocator allocator) throws Exception {
    // A date literal is not among the kinds read back: arrow-dataset applies the filter as sent.
    byte[] serialized = substraitOf(compare("day", GE, of("2024-01-03")));
    Filter raw = Filter.newBuilder().setSubstrait(ByteString.copyFrom(serialized)).build();

    ScanFilter passedThrough = FilterTranslator.translate(TABLE, raw, FilterTestTable.SCHEMA);

    assertThat(passedThrough.sql()).isNull();
    assertThat(passedThrough.iceberg()).isEqualTo(Expressions.alwaysTrue());
    assertThat(passedThrough.substrait().isDirect()).isTrue();
    assertThat(passedThrough.substrait()).isEqualTo(ByteBuffer.wrap(serialized));
    assertThat(FilterTestTable.scanIds(allocator, table, passedThrough))
        .containsExactly(2L, 3L, 5L);
  }

  /** The Substrait bytes the server makes for {@code predicate}, as a client could send them. */
  private static byte[] substraitOf(Predicate predicate) {
    ByteBuffer bytes =
        FilterTranslator.translate(TABLE, filter(predicate), FilterTestTable.SCHEMA).substrait();
    byte[] serialized = new byte[bytes.remaining()];
    bytes.get(serialized);
    return serialized;
  }

  @Test
  void filterMayTestColumnsTheScanDoesNotReturn(BufferAllocator allocator) throws Exception {
    ScanFilter scanFilter =
        FilterTranslator.translate(
            TABLE, filter(compare("name", EQ, of("dave"))), FilterTestTable.SCHEMA);

    List<Long> ids =
        FilterTestTable.scanIds(allocator, table, scanFilter, Optional.of(new String[] {"id"}));

    assertThat(ids).containsExactly(3L);
  }

  @Test
  void oneScanFilterServesSeveralScans(BufferAllocator allocator) throws Exception {
    ScanFilter scanFilter =
        FilterTranslator.translate(
            TABLE, filter(compare("num", GE, of(40))), FilterTestTable.SCHEMA);

    List<Long> first = FilterTestTable.scanIds(allocator, table, scanFilter);
    List<Long> second = FilterTestTable.scanIds(allocator, table, scanFilter);

    assertThat(first).containsExactly(3L, 5L);
    assertThat(second).isEqualTo(first);
  }

  private static List<Long> scan(BufferAllocator allocator, Predicate predicate) throws Exception {
    ScanFilter scanFilter =
        FilterTranslator.translate(TABLE, filter(predicate), FilterTestTable.SCHEMA);
    List<Long> ids = FilterTestTable.scanIds(allocator, table, scanFilter);
    assertThat(sqlIds(scanFilter.sql())).as("DuckDB's rows").isEqualTo(ids);
    return ids;
  }

  // The scan allocates under the engine's root (see TestSqlEngine); closing the child checks it.
  private static List<Long> sqlIds(SqlFilter filter) throws Exception {
    Schema idOnly = new Schema(List.of(FilterTestTable.SCHEMA.findField("id")));
    List<Long> ids = new ArrayList<>();
    try (BufferAllocator allocator = writeAllocator.newChildAllocator("scan", 0, Long.MAX_VALUE);
        SqlTableScan scan =
            SqlTableScan.open(
                sql.engine(),
                allocator,
                TestSqlEngine.parquetFiles(table),
                idOnly,
                filter,
                -1,
                1024)) {
      while (scan.next()) {
        BigIntVector id = (BigIntVector) scan.root().getVector("id");
        for (int i = 0; i < scan.root().getRowCount(); i++) {
          ids.add(id.get(i));
        }
      }
    }
    ids.sort(null);
    return ids;
  }
}
