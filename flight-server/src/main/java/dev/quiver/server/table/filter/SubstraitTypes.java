package dev.quiver.server.table.filter;

import io.substrait.proto.NamedStruct;
import io.substrait.proto.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Maps Arrow columns to the Substrait types Arrow C++'s consumer turns back into the same Arrow
 * types, for the base schema of a filter.
 *
 * <p>Field references in a filter are positions in the base schema, so every column must be in it,
 * including columns whose type Substrait cannot state; those get a stand-in type. Arrow binds the
 * filter to the dataset's real schema before it runs, so a stand-in only matters for columns the
 * filter compares, and the translator refuses comparisons on them.
 */
final class SubstraitTypes {
  private SubstraitTypes() {}

  /** The base schema: every column of {@code schema}, in order, named as in the table. */
  static NamedStruct baseSchema(Schema schema, SubstraitExpressions extensions) {
    NamedStruct.Builder named = NamedStruct.newBuilder();
    Type.Struct.Builder struct =
        Type.Struct.newBuilder().setNullability(Type.Nullability.NULLABILITY_REQUIRED);
    for (Field field : schema.getFields()) {
      struct.addTypes(type(field, extensions, named));
    }
    return named.setStruct(struct).build();
  }

  /**
   * The Substrait type of a column: its exact type, or a stand-in when Substrait (as Arrow reads
   * it) has none. Names of the column and its struct children are appended to {@code names} in
   * Substrait's depth-first order.
   */
  private static Type type(
      Field field, SubstraitExpressions extensions, NamedStruct.Builder names) {
    names.addNames(field.getName());
    Type.Nullability nullability =
        field.isNullable()
            ? Type.Nullability.NULLABILITY_NULLABLE
            : Type.Nullability.NULLABILITY_REQUIRED;
    ArrowType arrowType = field.getType();
    if (arrowType instanceof ArrowType.Struct) {
      Type.Struct.Builder struct = Type.Struct.newBuilder().setNullability(nullability);
      for (Field child : field.getChildren()) {
        struct.addTypes(type(child, extensions, names));
      }
      return Type.newBuilder().setStruct(struct).build();
    }
    Optional<Type> exact = exactType(field, nullability, extensions);
    return exact.orElseGet(() -> standIn(extensions));
  }

  private static Optional<Type> exactType(
      Field field, Type.Nullability nullability, SubstraitExpressions extensions) {
    ArrowType arrowType = field.getType();
    Type.Builder type = Type.newBuilder();
    switch (arrowType.getTypeID()) {
      case Bool:
        return Optional.of(
            type.setBool(Type.Boolean.newBuilder().setNullability(nullability)).build());
      case Int:
        return Optional.of(intType((ArrowType.Int) arrowType, nullability, extensions));
      case FloatingPoint:
        FloatingPointPrecision precision = ((ArrowType.FloatingPoint) arrowType).getPrecision();
        if (precision == FloatingPointPrecision.SINGLE) {
          return Optional.of(
              type.setFp32(Type.FP32.newBuilder().setNullability(nullability)).build());
        }
        if (precision == FloatingPointPrecision.DOUBLE) {
          return Optional.of(
              type.setFp64(Type.FP64.newBuilder().setNullability(nullability)).build());
        }
        return Optional.empty();
      case Utf8:
        return Optional.of(
            type.setString(Type.String.newBuilder().setNullability(nullability)).build());
      case Binary:
        return Optional.of(
            type.setBinary(Type.Binary.newBuilder().setNullability(nullability)).build());
      case FixedSizeBinary:
        int width = ((ArrowType.FixedSizeBinary) arrowType).getByteWidth();
        return Optional.of(
            type.setFixedBinary(
                    Type.FixedBinary.newBuilder().setLength(width).setNullability(nullability))
                .build());
      case Date:
        if (((ArrowType.Date) arrowType).getUnit() != DateUnit.DAY) {
          return Optional.empty();
        }
        return Optional.of(
            type.setDate(Type.Date.newBuilder().setNullability(nullability)).build());
      case Timestamp:
        return Optional.of(timestampType((ArrowType.Timestamp) arrowType, nullability));
      case Decimal:
        ArrowType.Decimal decimal = (ArrowType.Decimal) arrowType;
        if (decimal.getBitWidth() != 128) {
          return Optional.empty();
        }
        return Optional.of(
            type.setDecimal(
                    Type.Decimal.newBuilder()
                        .setPrecision(decimal.getPrecision())
                        .setScale(decimal.getScale())
                        .setNullability(nullability))
                .build());
      default:
        return Optional.empty();
    }
  }

  private static Type intType(
      ArrowType.Int arrowType, Type.Nullability nullability, SubstraitExpressions extensions) {
    Type.Builder type = Type.newBuilder();
    if (!arrowType.getIsSigned()) {
      return type.setUserDefined(
              Type.UserDefined.newBuilder()
                  .setTypeReference(extensions.arrowType("u" + arrowType.getBitWidth()))
                  .setNullability(nullability))
          .build();
    }
    switch (arrowType.getBitWidth()) {
      case 8:
        return type.setI8(Type.I8.newBuilder().setNullability(nullability)).build();
      case 16:
        return type.setI16(Type.I16.newBuilder().setNullability(nullability)).build();
      case 32:
        return type.setI32(Type.I32.newBuilder().setNullability(nullability)).build();
      default:
        return type.setI64(Type.I64.newBuilder().setNullability(nullability)).build();
    }
  }

  // Substrait deprecated the microsecond timestamp types, but they are the ones Arrow maps to
  // timestamp[us]; it reads precision_timestamp types too, but not their literals.
  @SuppressWarnings("deprecation")
  private static Type timestampType(ArrowType.Timestamp arrowType, Type.Nullability nullability) {
    Type.Builder type = Type.newBuilder();
    boolean zoned = arrowType.getTimezone() != null;
    if (arrowType.getUnit() == TimeUnit.MICROSECOND) {
      // The plain (deprecated) types: the ones Arrow's consumer maps to timestamp[us].
      return zoned
          ? type.setTimestampTz(Type.TimestampTZ.newBuilder().setNullability(nullability)).build()
          : type.setTimestamp(Type.Timestamp.newBuilder().setNullability(nullability)).build();
    }
    int precision = precisionDigits(arrowType.getUnit());
    return zoned
        ? type.setPrecisionTimestampTz(
                Type.PrecisionTimestampTZ.newBuilder()
                    .setPrecision(precision)
                    .setNullability(nullability))
            .build()
        : type.setPrecisionTimestamp(
                Type.PrecisionTimestamp.newBuilder()
                    .setPrecision(precision)
                    .setNullability(nullability))
            .build();
  }

  static int precisionDigits(TimeUnit unit) {
    switch (unit) {
      case SECOND:
        return 0;
      case MILLISECOND:
        return 3;
      case MICROSECOND:
        return 6;
      default:
        return 9;
    }
  }

  private static Type standIn(SubstraitExpressions extensions) {
    // Arrow's "null" extension type: any type would do, since Arrow rebinds the filter to the
    // dataset's real schema and the translator never compares such a column with a literal.
    // Always nullable, as a non-nullable null column would be a contradiction.
    return Type.newBuilder()
        .setUserDefined(
            Type.UserDefined.newBuilder()
                .setTypeReference(extensions.arrowType("null"))
                .setNullability(Type.Nullability.NULLABILITY_NULLABLE))
        .build();
  }

  /** Names of the top-level columns described by a base schema, for checking raw filters. */
  static List<String> topLevelNames(NamedStruct schema) {
    List<String> names = new ArrayList<>();
    int[] next = {0};
    for (Type type : schema.getStruct().getTypesList()) {
      if (next[0] >= schema.getNamesCount()) {
        return names;
      }
      names.add(schema.getNames(next[0]++));
      skipChildNames(type, next);
    }
    return names;
  }

  private static void skipChildNames(Type type, int[] next) {
    if (type.hasStruct()) {
      for (Type child : type.getStruct().getTypesList()) {
        next[0]++;
        skipChildNames(child, next);
      }
    }
  }
}
