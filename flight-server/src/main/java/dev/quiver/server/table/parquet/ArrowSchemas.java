package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.DictionaryUtility;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Conversions and checks between a table's Arrow schema and its Iceberg schema.
 *
 * <p>A Quiver table keeps the exact Arrow schema of its first put; the Iceberg schema is derived
 * from it and only describes the stored Parquet columns. Every type accepted by {@link #toIceberg}
 * round-trips exactly through {@link DuckDbParquetWriter} and {@link ReadConformer}; everything
 * else is refused up front with {@link QuiverErrorCode#UNSUPPORTED_TYPE}.
 *
 * <p>Schemas here are in Arrow's message format, as {@code FlightStream.getSchema()} and {@code
 * ArrowReader.readSchema} give them: a dictionary-encoded field's type is its value type.
 *
 * <p>Ids: Iceberg's {@code createTable} assigns fresh ids of its own, so take the ids for {@link
 * #withFieldIds} and {@link DuckDbParquetWriter} from the created table's schema, not from {@link
 * #toIceberg}'s result.
 *
 * <p>Caveat: uint64 maps to Iceberg {@code long}. The Parquet files keep the UINT_64 annotation, so
 * Quiver reads the values back exactly, but engines that read the table through Iceberg see values
 * above {@link Long#MAX_VALUE} as negative numbers. Nanosecond timestamps map to Iceberg's {@code
 * timestamp_ns}/{@code timestamptz_ns}, which need table format version 3.
 */
public final class ArrowSchemas {
  /** The field metadata key Arrow C++ and DuckDB read Parquet field ids from. */
  public static final String FIELD_ID_KEY = "PARQUET:field_id";

  private ArrowSchemas() {}

  /**
   * The Iceberg schema for an Arrow schema, with fresh ids 1..n assigned depth-first and every
   * field optional (Iceberg map keys are required by the spec).
   *
   * @throws QuiverException UNSUPPORTED_TYPE naming the first column Quiver cannot store
   */
  public static org.apache.iceberg.Schema toIceberg(Schema arrow) {
    requireNonNull(arrow, "arrow is null");
    AtomicInteger ids = new AtomicInteger();
    checkUniqueNames("", arrow.getFields());
    List<Types.NestedField> columns = new ArrayList<>();
    for (Field field : arrow.getFields()) {
      int id = ids.incrementAndGet();
      columns.add(
          Types.NestedField.optional(
              id, field.getName(), icebergType(field, field.getName(), true, ids)));
    }
    return new org.apache.iceberg.Schema(columns);
  }

  /**
   * The Arrow schema of a table another engine created (no Quiver Arrow schema property): each
   * Iceberg type as the read path gives it, with {@value #FIELD_ID_KEY} on every field and required
   * fields non-nullable. timestamptz is {@code Timestamp(MICROSECOND, "UTC")}, timestamp {@code
   * Timestamp(MICROSECOND, null)} (nanosecond for the {@code _ns} types), uuid and fixed[n] {@code
   * FixedSizeBinary}, time {@code Time(MICROSECOND)}.
   *
   * @throws QuiverException UNSUPPORTED_TYPE naming the table, the first column Quiver cannot serve
   *     and its type
   */
  public static Schema fromIceberg(TableId table, org.apache.iceberg.Schema iceberg) {
    requireNonNull(table, "table is null");
    List<Field> fields = new ArrayList<>();
    for (Types.NestedField column : iceberg.columns()) {
      fields.add(arrowField(table, column.name(), column.name(), column));
    }
    return new Schema(fields);
  }

  private static Field arrowField(
      TableId table, String name, String path, Types.NestedField column) {
    Type type = column.type();
    List<Field> children = new ArrayList<>();
    ArrowType arrow;
    switch (type.typeId()) {
      case BOOLEAN -> arrow = ArrowType.Bool.INSTANCE;
      case INTEGER -> arrow = new ArrowType.Int(32, true);
      case LONG -> arrow = new ArrowType.Int(64, true);
      case FLOAT -> arrow = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case DOUBLE -> arrow = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case DATE -> arrow = new ArrowType.Date(org.apache.arrow.vector.types.DateUnit.DAY);
      case TIME -> arrow = new ArrowType.Time(TimeUnit.MICROSECOND, 64);
      case TIMESTAMP ->
          arrow =
              new ArrowType.Timestamp(
                  TimeUnit.MICROSECOND,
                  ((Types.TimestampType) type).shouldAdjustToUTC() ? "UTC" : null);
      case TIMESTAMP_NANO ->
          arrow =
              new ArrowType.Timestamp(
                  TimeUnit.NANOSECOND,
                  ((Types.TimestampNanoType) type).shouldAdjustToUTC() ? "UTC" : null);
      case STRING -> arrow = ArrowType.Utf8.INSTANCE;
      case UUID -> arrow = new ArrowType.FixedSizeBinary(16);
      case FIXED -> arrow = new ArrowType.FixedSizeBinary(((Types.FixedType) type).length());
      case BINARY -> arrow = ArrowType.Binary.INSTANCE;
      case DECIMAL -> {
        Types.DecimalType decimal = (Types.DecimalType) type;
        arrow = new ArrowType.Decimal(decimal.precision(), decimal.scale(), 128);
      }
      case LIST -> {
        arrow = ArrowType.List.INSTANCE;
        Types.NestedField element = type.asListType().fields().get(0);
        children.add(arrowField(table, "element", path + ".element", element));
      }
      case MAP -> {
        arrow = new ArrowType.Map(false);
        Types.MapType map = type.asMapType();
        Field key = arrowField(table, "key", path + ".key", map.fields().get(0));
        Field value = arrowField(table, "value", path + ".value", map.fields().get(1));
        children.add(
            new Field(
                "entries", FieldType.notNullable(ArrowType.Struct.INSTANCE), List.of(key, value)));
      }
      case STRUCT -> {
        arrow = ArrowType.Struct.INSTANCE;
        for (Types.NestedField child : type.asStructType().fields()) {
          children.add(arrowField(table, child.name(), path + "." + child.name(), child));
        }
      }
      default ->
          throw new QuiverException(
              QuiverErrorCode.UNSUPPORTED_TYPE,
              "Cannot serve table %s: column %s has Iceberg type %s, which Quiver cannot read",
              table,
              path,
              type);
    }
    Map<String, String> metadata = Map.of(FIELD_ID_KEY, Integer.toString(column.fieldId()));
    return new Field(name, new FieldType(column.isOptional(), arrow, null, metadata), children);
  }

  private static Type icebergType(Field field, String path, boolean topLevel, AtomicInteger ids) {
    ArrowType type = field.getType();
    DictionaryEncoding dictionary = field.getDictionary();
    if (dictionary != null) {
      if (topLevel && (type instanceof ArrowType.Utf8 || type instanceof ArrowType.LargeUtf8)) {
        return Types.StringType.get();
      }
      throw unsupported(
          path, field, "dictionary encoding is supported for top-level string columns only");
    }
    switch (type.getTypeID()) {
      case Int:
        ArrowType.Int integer = (ArrowType.Int) type;
        if (integer.getBitWidth() < 32 || (integer.getBitWidth() == 32 && integer.getIsSigned())) {
          return Types.IntegerType.get();
        }
        return Types.LongType.get();
      case FloatingPoint:
        FloatingPointPrecision precision = ((ArrowType.FloatingPoint) type).getPrecision();
        if (precision == FloatingPointPrecision.HALF && !topLevel) {
          throw unsupported(path, field, "float16 is supported in top-level columns only");
        }
        return precision == FloatingPointPrecision.DOUBLE
            ? Types.DoubleType.get()
            : Types.FloatType.get();
      case Bool:
        return Types.BooleanType.get();
      case Utf8:
      case LargeUtf8:
        return Types.StringType.get();
      case Binary:
      case LargeBinary:
      case FixedSizeBinary:
        return Types.BinaryType.get();
      case Date:
        if (((ArrowType.Date) type).getUnit() != org.apache.arrow.vector.types.DateUnit.DAY) {
          throw unsupported(path, field, "use date32");
        }
        return Types.DateType.get();
      case Time:
        return Types.TimeType.get();
      case Timestamp:
        ArrowType.Timestamp timestamp = (ArrowType.Timestamp) type;
        boolean zoned = timestamp.getTimezone() != null;
        if (timestamp.getUnit() == TimeUnit.NANOSECOND) {
          if (zoned && !topLevel) {
            throw unsupported(
                path,
                field,
                "timestamps with a time zone in nanoseconds are supported in top-level columns only");
          }
          return zoned ? Types.TimestampNanoType.withZone() : Types.TimestampNanoType.withoutZone();
        }
        return zoned ? Types.TimestampType.withZone() : Types.TimestampType.withoutZone();
      case Decimal:
        ArrowType.Decimal decimal = (ArrowType.Decimal) type;
        if (decimal.getBitWidth() != 128
            || decimal.getScale() < 0
            || decimal.getScale() > decimal.getPrecision()
            || decimal.getPrecision() > 38) {
          throw unsupported(path, field, "use decimal128 with 0 <= scale <= precision <= 38");
        }
        return Types.DecimalType.of(decimal.getPrecision(), decimal.getScale());
      case List:
      case LargeList:
        {
          Field element = field.getChildren().get(0);
          int elementId = ids.incrementAndGet();
          return Types.ListType.ofOptional(
              elementId, icebergType(element, path + "." + element.getName(), false, ids));
        }
      case Struct:
        {
          checkUniqueNames(path + ".", field.getChildren());
          List<Types.NestedField> children = new ArrayList<>();
          for (Field child : field.getChildren()) {
            int childId = ids.incrementAndGet();
            String childPath = path + "." + child.getName();
            children.add(
                Types.NestedField.optional(
                    childId, child.getName(), icebergType(child, childPath, false, ids)));
          }
          return Types.StructType.of(children);
        }
      case Map:
        {
          Field entries = field.getChildren().get(0);
          Field key = entries.getChildren().get(0);
          Field value = entries.getChildren().get(1);
          int keyId = ids.incrementAndGet();
          Type keyType = icebergType(key, path + ".key", false, ids);
          int valueId = ids.incrementAndGet();
          Type valueType = icebergType(value, path + ".value", false, ids);
          return Types.MapType.ofOptional(keyId, valueId, keyType, valueType);
        }
      default:
        throw unsupported(path, field, null);
    }
  }

  private static void checkUniqueNames(String prefix, List<Field> fields) {
    Set<String> seen = new HashSet<>();
    for (Field field : fields) {
      if (!seen.add(field.getName())) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_TYPE,
            "Column %s%s appears more than once, which Quiver cannot store",
            prefix,
            field.getName());
      }
    }
  }

  private static QuiverException unsupported(String path, Field field, String hint) {
    return new QuiverException(
        QuiverErrorCode.UNSUPPORTED_TYPE,
        "Column %s has type %s, which Quiver cannot store%s",
        path,
        typeName(field),
        hint == null ? "" : " (" + hint + ")");
  }

  /**
   * Whether {@code arrow}, a table's stored Arrow schema, still describes {@code iceberg}: the same
   * top-level column names in the same order, each of the Iceberg type Quiver stores it as. False
   * once another engine has added, dropped, renamed or widened a column through the catalog.
   */
  public static boolean fits(Schema arrow, org.apache.iceberg.Schema iceberg) {
    List<Field> fields = arrow.getFields();
    List<Types.NestedField> columns = iceberg.columns();
    if (fields.size() != columns.size()) {
      return false;
    }
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      Type type = columns.get(i).type();
      if (!field.getName().equals(columns.get(i).name())) {
        return false;
      }
      try {
        Type stored = icebergType(field, field.getName(), true, new AtomicInteger());
        if (type.isPrimitiveType() ? !stored.equals(type) : stored.typeId() != type.typeId()) {
          return false;
        }
      } catch (QuiverException e) {
        return false;
      }
    }
    return true;
  }

  /**
   * The Arrow schema with {@value #FIELD_ID_KEY} metadata on every field, nested ones included,
   * taken from the Iceberg schema's ids (matched by position and name).
   */
  static Schema withFieldIds(Schema arrow, org.apache.iceberg.Schema iceberg) {
    requireNonNull(arrow, "arrow is null");
    requireNonNull(iceberg, "iceberg is null");
    List<Types.NestedField> columns = iceberg.columns();
    if (columns.size() != arrow.getFields().size()) {
      throw new IllegalArgumentException(
          "Arrow schema has "
              + arrow.getFields().size()
              + " columns but Iceberg has "
              + columns.size());
    }
    List<Field> fields = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      fields.add(
          withFieldId(arrow.getFields().get(i), columns.get(i).fieldId(), columns.get(i).type()));
    }
    return new Schema(fields, arrow.getCustomMetadata());
  }

  private static Field withFieldId(Field field, int id, Type type) {
    List<Field> children = field.getChildren();
    List<Field> newChildren = new ArrayList<>(children.size());
    if (type.isListType()) {
      Types.ListType list = type.asListType();
      newChildren.add(withFieldId(children.get(0), list.elementId(), list.elementType()));
    } else if (type.isMapType()) {
      Types.MapType map = type.asMapType();
      Field entries = children.get(0);
      Field key = withFieldId(entries.getChildren().get(0), map.keyId(), map.keyType());
      Field value = withFieldId(entries.getChildren().get(1), map.valueId(), map.valueType());
      newChildren.add(new Field(entries.getName(), entries.getFieldType(), List.of(key, value)));
    } else if (type.isStructType()) {
      List<Types.NestedField> icebergChildren = type.asStructType().fields();
      for (int i = 0; i < children.size(); i++) {
        Types.NestedField child = icebergChildren.get(i);
        newChildren.add(withFieldId(children.get(i), child.fieldId(), child.type()));
      }
    } else {
      newChildren.addAll(children);
    }
    Map<String, String> metadata = new HashMap<>();
    if (field.getMetadata() != null) {
      metadata.putAll(field.getMetadata());
    }
    metadata.put(FIELD_ID_KEY, Integer.toString(id));
    FieldType fieldType =
        new FieldType(field.isNullable(), field.getType(), field.getDictionary(), metadata);
    return new Field(field.getName(), fieldType, newChildren);
  }

  /**
   * Checks that a put stream can be appended to a table: same column names, order and types (field
   * metadata and list/map child names are ignored; a non-null stream column may go into a nullable
   * table column, not the other way round).
   *
   * @throws QuiverException SCHEMA_MISMATCH naming the table, the column and both types
   */
  public static void checkAppendCompatible(TableId table, Schema tableSchema, Schema streamSchema) {
    requireNonNull(table, "table is null");
    List<Field> tableFields = tableSchema.getFields();
    List<Field> streamFields = streamSchema.getFields();
    Map<String, Integer> streamPositions = new HashMap<>();
    for (int i = 0; i < streamFields.size(); i++) {
      streamPositions.putIfAbsent(streamFields.get(i).getName(), i);
    }
    Set<String> tableNames = tableFields.stream().map(Field::getName).collect(Collectors.toSet());
    for (Field streamField : streamFields) {
      if (!tableNames.contains(streamField.getName())) {
        throw mismatch(
            table, "column %s is in the stream but not in the table", streamField.getName());
      }
    }
    for (int i = 0; i < tableFields.size(); i++) {
      Field tableField = tableFields.get(i);
      Integer position = streamPositions.get(tableField.getName());
      if (position == null) {
        throw mismatch(
            table, "column %s is in the table but missing from the stream", tableField.getName());
      }
      if (position != i) {
        throw mismatch(
            table,
            "column %s is at position %d in the stream but %d in the table",
            tableField.getName(),
            position + 1,
            i + 1);
      }
      checkField(table, tableField.getName(), tableField, streamFields.get(i));
    }
    if (streamFields.size() != tableFields.size()) {
      // Only a duplicated stream column can get here.
      throw mismatch(
          table,
          "the stream has %d columns but the table has %d",
          streamFields.size(),
          tableFields.size());
    }
  }

  private static void checkField(TableId table, String path, Field tableField, Field streamField) {
    if (!sameType(tableField, streamField, true)) {
      throw mismatch(
          table,
          "column %s is %s in the stream but %s in the table",
          path,
          typeName(streamField),
          typeName(tableField));
    }
    checkNullability(table, path, tableField, streamField);
  }

  private static void checkNullability(
      TableId table, String path, Field tableField, Field streamField) {
    if (streamField.isNullable() && !tableField.isNullable()) {
      throw mismatch(table, "column %s is nullable in the stream but not null in the table", path);
    }
    List<Field> tableChildren = tableField.getChildren();
    for (int i = 0; i < tableChildren.size(); i++) {
      Field tableChild = tableChildren.get(i);
      String childPath;
      if (tableField.getType() instanceof ArrowType.Struct) {
        childPath = path + "." + tableChild.getName();
      } else if (tableField.getType() instanceof ArrowType.Map) {
        childPath = path; // the entries struct: its key and value are named below
        Field tableEntries = tableChild;
        Field streamEntries = streamField.getChildren().get(0);
        checkNullability(
            table,
            path + ".key",
            tableEntries.getChildren().get(0),
            streamEntries.getChildren().get(0));
        checkNullability(
            table,
            path + ".value",
            tableEntries.getChildren().get(1),
            streamEntries.getChildren().get(1));
        continue;
      } else {
        childPath = path + ".element";
      }
      checkNullability(table, childPath, tableChild, streamField.getChildren().get(i));
    }
  }

  /**
   * Whether two fields have the same type and shape; struct child names count, list element and map
   * entry names do not (clients name them differently and the reader restores the table's).
   */
  private static boolean sameType(Field tableField, Field streamField, boolean namesMatter) {
    DictionaryEncoding tableDictionary = tableField.getDictionary();
    DictionaryEncoding streamDictionary = streamField.getDictionary();
    if ((tableDictionary == null) != (streamDictionary == null)) {
      return false;
    }
    if (!tableField.getType().equals(streamField.getType())) {
      return false;
    }
    List<Field> tableChildren = tableField.getChildren();
    List<Field> streamChildren = streamField.getChildren();
    if (tableChildren.size() != streamChildren.size()) {
      return false;
    }
    boolean struct = tableField.getType() instanceof ArrowType.Struct;
    for (int i = 0; i < tableChildren.size(); i++) {
      Field tableChild = tableChildren.get(i);
      Field streamChild = streamChildren.get(i);
      if (struct && namesMatter && !tableChild.getName().equals(streamChild.getName())) {
        return false;
      }
      boolean childNamesMatter = !(tableField.getType() instanceof ArrowType.Map);
      if (!sameType(tableChild, streamChild, childNamesMatter)) {
        return false;
      }
    }
    return true;
  }

  private static QuiverException mismatch(TableId table, String format, Object... args) {
    Object[] all = new Object[args.length + 1];
    all[0] = table;
    System.arraycopy(args, 0, all, 1, args.length);
    return new QuiverException(
        QuiverErrorCode.SCHEMA_MISMATCH, "Cannot append to table %s: " + format, all);
  }

  /**
   * A short, readable name of a field's type for error messages: int64, decimal(18,2),
   * timestamp[us, tz=UTC], list&lt;string&gt;, struct&lt;x: int32&gt;, dictionary&lt;string&gt;
   * (pyarrow's names, which most users read).
   */
  public static String typeName(Field field) {
    String base = baseTypeName(field);
    return field.getDictionary() == null ? base : "dictionary<" + base + ">";
  }

  private static String baseTypeName(Field field) {
    ArrowType type = field.getType();
    switch (type.getTypeID()) {
      case Int:
        ArrowType.Int integer = (ArrowType.Int) type;
        return (integer.getIsSigned() ? "int" : "uint") + integer.getBitWidth();
      case FloatingPoint:
        switch (((ArrowType.FloatingPoint) type).getPrecision()) {
          case HALF:
            return "float16";
          case SINGLE:
            return "float32";
          default:
            return "float64";
        }
      case Bool:
        return "bool";
      case Utf8:
        return "string";
      case LargeUtf8:
        return "large_string";
      case Binary:
        return "binary";
      case LargeBinary:
        return "large_binary";
      case FixedSizeBinary:
        return "fixed_size_binary(" + ((ArrowType.FixedSizeBinary) type).getByteWidth() + ")";
      case Date:
        return ((ArrowType.Date) type).getUnit() == org.apache.arrow.vector.types.DateUnit.DAY
            ? "date32"
            : "date64";
      case Time:
        ArrowType.Time time = (ArrowType.Time) type;
        return "time" + time.getBitWidth() + "[" + unitName(time.getUnit()) + "]";
      case Timestamp:
        ArrowType.Timestamp timestamp = (ArrowType.Timestamp) type;
        return "timestamp["
            + unitName(timestamp.getUnit())
            + (timestamp.getTimezone() == null ? "" : ", tz=" + timestamp.getTimezone())
            + "]";
      case Decimal:
        ArrowType.Decimal decimal = (ArrowType.Decimal) type;
        return (decimal.getBitWidth() == 128 ? "decimal(" : "decimal" + decimal.getBitWidth() + "(")
            + decimal.getPrecision()
            + ","
            + decimal.getScale()
            + ")";
      case List:
        return "list<" + typeName(field.getChildren().get(0)) + ">";
      case LargeList:
        return "large_list<" + typeName(field.getChildren().get(0)) + ">";
      case Struct:
        return field.getChildren().stream()
            .map(child -> child.getName() + ": " + typeName(child))
            .collect(Collectors.joining(", ", "struct<", ">"));
      case Map:
        Field entries = field.getChildren().get(0);
        return "map<"
            + typeName(entries.getChildren().get(0))
            + ", "
            + typeName(entries.getChildren().get(1))
            + ">";
      default:
        return type.toString();
    }
  }

  /** Arrow's short name of a time unit: s, ms, us, ns. */
  public static String unitName(TimeUnit unit) {
    switch (unit) {
      case SECOND:
        return "s";
      case MILLISECOND:
        return "ms";
      case MICROSECOND:
        return "us";
      default:
        return "ns";
    }
  }

  /** The schema without {@value #FIELD_ID_KEY} metadata, nested fields included. */
  public static Schema withoutFieldIds(Schema schema) {
    List<Field> fields = new ArrayList<>();
    for (Field field : schema.getFields()) {
      fields.add(withoutFieldId(field));
    }
    return new Schema(fields, schema.getCustomMetadata());
  }

  private static Field withoutFieldId(Field field) {
    List<Field> children = new ArrayList<>();
    for (Field child : field.getChildren()) {
      children.add(withoutFieldId(child));
    }
    Map<String, String> metadata = field.getMetadata();
    if (metadata != null && metadata.containsKey(FIELD_ID_KEY)) {
      metadata = new HashMap<>(metadata);
      metadata.remove(FIELD_ID_KEY);
    }
    return new Field(
        field.getName(),
        new FieldType(field.isNullable(), field.getType(), field.getDictionary(), metadata),
        children);
  }

  /**
   * A schema in Arrow's message format (dictionary columns typed by their values), from the
   * in-memory form readers and Flight streams hold (typed by their indices) and the dictionaries.
   */
  public static Schema messageFormat(Schema memoryFormat, DictionaryProvider dictionaries) {
    Set<Long> ids = new HashSet<>();
    List<Field> fields = new ArrayList<>();
    for (Field field : memoryFormat.getFields()) {
      fields.add(DictionaryUtility.toMessageFormat(field, dictionaries, ids));
    }
    return new Schema(fields, memoryFormat.getCustomMetadata());
  }

  /** The schema as Arrow's JSON form, for storing in a table property. */
  public static String toJson(Schema schema) {
    return schema.toJson();
  }

  /** The schema stored by {@link #toJson}. */
  public static Schema fromJson(String json) {
    try {
      return Schema.fromJSON(json);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot parse a stored Arrow schema", e);
    }
  }
}
