package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.AllTypes;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.IntervalUnit;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.UnionMode;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class ArrowSchemasTest {
  private static final TableId TABLE = TableId.of("sales", "orders");

  private static Field field(String name, ArrowType type, Field... children) {
    return AllTypes.field(name, type, children);
  }

  @Test
  void mapsEveryStoredTypeToIcebergWithOptionalFieldsAndDepthFirstIds() {
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(AllTypes.schema());

    Map<String, String> expected =
        Map.ofEntries(
            Map.entry("id", "long"),
            Map.entry("i8", "int"),
            Map.entry("i16", "int"),
            Map.entry("i32", "int"),
            Map.entry("i64", "long"),
            Map.entry("u8", "int"),
            Map.entry("u16", "int"),
            Map.entry("u32", "long"),
            Map.entry("u64", "long"),
            Map.entry("f16", "float"),
            Map.entry("f32", "float"),
            Map.entry("f64", "double"),
            Map.entry("b", "boolean"),
            Map.entry("s", "string"),
            Map.entry("ls", "string"),
            Map.entry("bin", "binary"),
            Map.entry("lbin", "binary"),
            Map.entry("fbin", "binary"),
            Map.entry("d", "date"),
            Map.entry("t32s", "time"),
            Map.entry("t64ns", "time"),
            Map.entry("ts_ms", "timestamp"),
            Map.entry("tstz_us", "timestamptz"),
            Map.entry("ts_ns", "timestamp_ns"),
            Map.entry("tstz_ns", "timestamptz_ns"),
            Map.entry("dec", "decimal(18, 2)"),
            Map.entry("l", "list<int>"),
            Map.entry("ll", "list<string>"),
            Map.entry(
                "st",
                "struct<39: x: optional int, 40: y: optional string, 41: z: optional timestamptz>"),
            Map.entry("m", "map<string, long>"));
    expected.forEach(
        (name, type) ->
            assertThat(iceberg.findField(name).type().toString()).as(name).isEqualTo(type));
    assertThat(iceberg.columns()).allMatch(Types.NestedField::isOptional);
    assertThat(iceberg.findField("id").fieldId()).isEqualTo(1);
    // Depth first: a nested type's children follow it directly.
    int structId = iceberg.findField("st").fieldId();
    assertThat(iceberg.findField("st.x").fieldId()).isEqualTo(structId + 1);
    Types.MapType map = iceberg.findField("m").type().asMapType();
    assertThat(map.keyId()).isEqualTo(iceberg.findField("m").fieldId() + 1);
    assertThat(map.isValueOptional()).isTrue();
  }

  @Test
  void refusesTypesQuiverCannotStore() {
    assertUnsupported(
        field("u", new ArrowType.Union(UnionMode.Sparse, new int[0])),
        "Column u has type Union(Sparse, []), which Quiver cannot store");
    assertUnsupported(
        field("iv", new ArrowType.Interval(IntervalUnit.DAY_TIME)),
        "Column iv has type Interval(DAY_TIME), which Quiver cannot store");
    assertUnsupported(
        field("du", new ArrowType.Duration(TimeUnit.SECOND)),
        "Column du has type Duration(SECOND), which Quiver cannot store");
    assertUnsupported(
        field("big", new ArrowType.Decimal(40, 2, 256)),
        "Column big has type decimal256(40,2), which Quiver cannot store"
            + " (use decimal128 with 0 <= scale <= precision <= 38)");
    assertUnsupported(
        field("neg", new ArrowType.Decimal(10, -2, 128)),
        "Column neg has type decimal(10,-2), which Quiver cannot store"
            + " (use decimal128 with 0 <= scale <= precision <= 38)");
    assertUnsupported(
        field("d64", new ArrowType.Date(DateUnit.MILLISECOND)),
        "Column d64 has type date64, which Quiver cannot store (use date32)");
    assertUnsupported(
        field("sv", ArrowType.Utf8View.INSTANCE),
        "Column sv has type Utf8View, which Quiver cannot store");
    assertUnsupported(
        field("fl", new ArrowType.FixedSizeList(2), field("item", new ArrowType.Int(32, true))),
        "Column fl has type FixedSizeList(2), which Quiver cannot store");
    assertUnsupported(
        field(
            "st",
            ArrowType.Struct.INSTANCE,
            field("h", new ArrowType.FloatingPoint(FloatingPointPrecision.HALF))),
        "Column st.h has type float16, which Quiver cannot store"
            + " (float16 is supported in top-level columns only)");
    assertUnsupported(
        field(
            "l",
            ArrowType.List.INSTANCE,
            field("item", new ArrowType.Timestamp(TimeUnit.NANOSECOND, "UTC"))),
        "Column l.item has type timestamp[ns, tz=UTC], which Quiver cannot store"
            + " (timestamps with a time zone in nanoseconds are supported in top-level columns only)");
    assertUnsupported(
        new Field(
            "codes",
            new FieldType(
                true, new ArrowType.Int(32, true), new DictionaryEncoding(1, false, null)),
            null),
        "Column codes has type dictionary<int32>, which Quiver cannot store"
            + " (dictionary encoding is supported for top-level string columns only)");
  }

  @Test
  void refusesDuplicateColumnNames() {
    Schema schema =
        new Schema(
            List.of(field("a", ArrowType.Bool.INSTANCE), field("a", ArrowType.Utf8.INSTANCE)));

    assertThatThrownBy(() -> ArrowSchemas.toIceberg(schema))
        .isInstanceOf(QuiverException.class)
        .hasMessage("Column a appears more than once, which Quiver cannot store")
        .extracting(e -> ((QuiverException) e).code())
        .isEqualTo(QuiverErrorCode.UNSUPPORTED_TYPE);
  }

  @Test
  void acceptsDictionaryEncodedStrings() {
    Field colour =
        new Field(
            "colour",
            new FieldType(
                true,
                ArrowType.Utf8.INSTANCE,
                new DictionaryEncoding(7, false, new ArrowType.Int(32, true))),
            null);

    assertThat(ArrowSchemas.toIceberg(new Schema(List.of(colour))).findField("colour").type())
        .isEqualTo(Types.StringType.get());
    Field defaultIndex =
        new Field(
            "c2",
            new FieldType(
                true, ArrowType.LargeUtf8.INSTANCE, new DictionaryEncoding(8, false, null)),
            null);
    assertThat(ArrowSchemas.toIceberg(new Schema(List.of(defaultIndex))).findField("c2").type())
        .isEqualTo(Types.StringType.get());
  }

  @Test
  void stampsFieldIdsOnNestedFields() {
    Schema arrow = AllTypes.schema();
    org.apache.iceberg.Schema iceberg = ArrowSchemas.toIceberg(arrow);

    Schema withIds = ArrowSchemas.withFieldIds(arrow, iceberg);

    Field struct = withIds.findField("st");
    assertThat(struct.getMetadata()).containsEntry("PARQUET:field_id", id(iceberg, "st"));
    assertThat(struct.getChildren().get(1).getMetadata())
        .containsEntry("PARQUET:field_id", id(iceberg, "st.y"));
    Field list = withIds.findField("l");
    assertThat(list.getChildren().get(0).getMetadata())
        .containsEntry(
            "PARQUET:field_id",
            String.valueOf(iceberg.findField("l").type().asListType().elementId()));
    Field mapEntries = withIds.findField("m").getChildren().get(0);
    Types.MapType map = iceberg.findField("m").type().asMapType();
    assertThat(mapEntries.getChildren().get(0).getMetadata())
        .containsEntry("PARQUET:field_id", String.valueOf(map.keyId()));
    assertThat(mapEntries.getChildren().get(1).getMetadata())
        .containsEntry("PARQUET:field_id", String.valueOf(map.valueId()));
    // Types and nullability are untouched.
    assertThat(withIds.findField("id").isNullable()).isFalse();
    assertThat(withIds.findField("ls").getType()).isEqualTo(ArrowType.LargeUtf8.INSTANCE);
  }

  private static String id(org.apache.iceberg.Schema iceberg, String name) {
    return String.valueOf(iceberg.findField(name).fieldId());
  }

  @Test
  void acceptsAnIdenticalStreamAndIgnoresMetadataAndChildNames() {
    Schema table = AllTypes.schema();
    Schema stream =
        new Schema(
            table.getFields().stream()
                .map(
                    f ->
                        f.getName().equals("l")
                            ? field(
                                "l",
                                ArrowType.List.INSTANCE,
                                field("$data$", new ArrowType.Int(32, true)))
                            : f)
                .toList(),
            Map.of("origin", "pyarrow"));

    ArrowSchemas.checkAppendCompatible(TABLE, table, stream);
    ArrowSchemas.checkAppendCompatible(
        TABLE, table, ArrowSchemas.withFieldIds(table, ArrowSchemas.toIceberg(table)));
  }

  @Test
  void acceptsANonNullStreamColumnIntoANullableTableColumn() {
    Schema table = new Schema(List.of(field("amount", new ArrowType.Int(64, true))));
    Schema stream =
        new Schema(
            List.of(new Field("amount", FieldType.notNullable(new ArrowType.Int(64, true)), null)));

    ArrowSchemas.checkAppendCompatible(TABLE, table, stream);
  }

  @Test
  void refusesANullableStreamColumnIntoANonNullTableColumn() {
    Schema table =
        new Schema(
            List.of(new Field("amount", FieldType.notNullable(new ArrowType.Int(64, true)), null)));
    Schema stream = new Schema(List.of(field("amount", new ArrowType.Int(64, true))));

    assertMismatch(
        table,
        stream,
        "Cannot append to table sales.orders: column amount is nullable in the stream but not null in the table");
  }

  @Test
  void refusesADifferentType() {
    Schema table = new Schema(List.of(field("amount", new ArrowType.Decimal(18, 2, 128))));
    Schema stream = new Schema(List.of(field("amount", new ArrowType.Int(64, true))));

    assertMismatch(
        table,
        stream,
        "Cannot append to table sales.orders: column amount is int64 in the stream but decimal(18,2) in the table");
  }

  @Test
  void refusesADifferentNestedType() {
    Schema table =
        new Schema(
            List.of(
                field("st", ArrowType.Struct.INSTANCE, field("x", new ArrowType.Int(32, true)))));
    Schema stream =
        new Schema(
            List.of(field("st", ArrowType.Struct.INSTANCE, field("x", ArrowType.Utf8.INSTANCE))));

    assertMismatch(
        table,
        stream,
        "Cannot append to table sales.orders: column st is struct<x: string> in the stream but struct<x: int32> in the table");
  }

  @Test
  void refusesATimeZoneChange() {
    Schema table =
        new Schema(List.of(field("at", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC"))));
    Schema stream =
        new Schema(List.of(field("at", new ArrowType.Timestamp(TimeUnit.MICROSECOND, null))));

    assertMismatch(
        table,
        stream,
        "Cannot append to table sales.orders: column at is timestamp[us] in the stream but timestamp[us, tz=UTC] in the table");
  }

  @Test
  void refusesMissingExtraAndReorderedColumns() {
    Field a = field("a", ArrowType.Bool.INSTANCE);
    Field b = field("b", ArrowType.Utf8.INSTANCE);
    Field c = field("c", ArrowType.Utf8.INSTANCE);
    Schema table = new Schema(List.of(a, b));

    assertMismatch(
        table,
        new Schema(List.of(a)),
        "Cannot append to table sales.orders: column b is in the table but missing from the stream");
    assertMismatch(
        table,
        new Schema(List.of(a, b, c)),
        "Cannot append to table sales.orders: column c is in the stream but not in the table");
    assertMismatch(
        table,
        new Schema(List.of(b, a)),
        "Cannot append to table sales.orders: column a is at position 2 in the stream but 1 in the table");
  }

  @Test
  void schemaJsonRoundTrips() {
    Schema schema =
        ArrowSchemas.withFieldIds(AllTypes.schema(), ArrowSchemas.toIceberg(AllTypes.schema()));

    assertThat(ArrowSchemas.fromJson(ArrowSchemas.toJson(schema))).isEqualTo(schema);
  }

  private static void assertUnsupported(Field field, String message) {
    Schema schema = new Schema(List.of(field));
    assertThatThrownBy(() -> ArrowSchemas.toIceberg(schema))
        .isInstanceOf(QuiverException.class)
        .hasMessage(message)
        .extracting(e -> ((QuiverException) e).code())
        .isEqualTo(QuiverErrorCode.UNSUPPORTED_TYPE);
  }

  private static void assertMismatch(Schema table, Schema stream, String message) {
    assertThatThrownBy(() -> ArrowSchemas.checkAppendCompatible(TABLE, table, stream))
        .isInstanceOf(QuiverException.class)
        .hasMessage(message)
        .extracting(e -> ((QuiverException) e).code())
        .isEqualTo(QuiverErrorCode.SCHEMA_MISMATCH);
  }

  @Test
  void fromIcebergGivesTheReadPathsArrowTypesWithFieldIds() {
    org.apache.iceberg.Schema iceberg =
        new org.apache.iceberg.Schema(
            Types.NestedField.required(1, "id", Types.UUIDType.get()),
            Types.NestedField.optional(2, "code", Types.FixedType.ofLength(3)),
            Types.NestedField.optional(3, "at", Types.TimestampNanoType.withZone()),
            Types.NestedField.optional(4, "clock", Types.TimeType.get()),
            Types.NestedField.optional(
                5, "tags", Types.ListType.ofOptional(6, Types.StringType.get())),
            Types.NestedField.optional(
                7,
                "attrs",
                Types.MapType.ofRequired(8, 9, Types.StringType.get(), Types.LongType.get())),
            Types.NestedField.optional(
                10,
                "point",
                Types.StructType.of(Types.NestedField.required(11, "x", Types.FloatType.get()))));

    Schema arrow = ArrowSchemas.fromIceberg(TableId.of("ext", "t"), iceberg);

    List<Field> fields = arrow.getFields();
    assertThat(fields)
        .extracting(Field::getType)
        .containsExactly(
            new ArrowType.FixedSizeBinary(16),
            new ArrowType.FixedSizeBinary(3),
            new ArrowType.Timestamp(TimeUnit.NANOSECOND, "UTC"),
            new ArrowType.Time(TimeUnit.MICROSECOND, 64),
            ArrowType.List.INSTANCE,
            new ArrowType.Map(false),
            ArrowType.Struct.INSTANCE);
    assertThat(fields.get(0).isNullable()).isFalse();
    assertThat(fields.get(4).getChildren().get(0).getMetadata())
        .containsEntry(ArrowSchemas.FIELD_ID_KEY, "6");
    Field entries = fields.get(5).getChildren().get(0);
    assertThat(entries.getChildren()).extracting(Field::getName).containsExactly("key", "value");
    assertThat(entries.getChildren().get(1).isNullable()).isFalse();
    assertThat(fields.get(6).getChildren().get(0).getType())
        .isEqualTo(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE));
  }

  @Test
  void fromIcebergRefusesATypeQuiverCannotReadNamingTableColumnAndType() {
    org.apache.iceberg.Schema iceberg =
        new org.apache.iceberg.Schema(
            Types.NestedField.optional(
                1,
                "s",
                Types.StructType.of(Types.NestedField.optional(2, "v", Types.VariantType.get()))));

    assertThatThrownBy(() -> ArrowSchemas.fromIceberg(TableId.of("ext", "t"), iceberg))
        .isInstanceOfSatisfying(
            QuiverException.class,
            e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNSUPPORTED_TYPE))
        .hasMessage(
            "Cannot serve table ext.t: column s.v has Iceberg type variant, which Quiver cannot"
                + " read");
  }
}
