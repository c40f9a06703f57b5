package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.quiver.proto.v1.And;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Not;
import dev.quiver.proto.v1.Or;
import dev.quiver.proto.v1.Predicate;
import java.util.Arrays;

/**
 * Readable factories for scan filters: {@code and(gt("amount", 100), isNotNull("customer"))}.
 *
 * <p>Literals may be {@code Boolean}, {@code Byte}, {@code Short}, {@code Integer}, {@code Long},
 * {@code Float}, {@code Double}, {@code String} or {@code byte[]}; the server converts each to the
 * column's type and rejects a value that does not fit with {@link QuiverErrorCode#INVALID_FILTER}.
 * Everything here is stateless and thread-safe.
 */
public final class Filters {
  private Filters() {}

  /** {@code column = value}. */
  public static Predicate eq(String column, Object value) {
    return compare(column, Comparison.Op.EQ, value);
  }

  /** {@code column <> value}. */
  public static Predicate ne(String column, Object value) {
    return compare(column, Comparison.Op.NE, value);
  }

  /** {@code column < value}. */
  public static Predicate lt(String column, Object value) {
    return compare(column, Comparison.Op.LT, value);
  }

  /** {@code column <= value}. */
  public static Predicate le(String column, Object value) {
    return compare(column, Comparison.Op.LE, value);
  }

  /** {@code column > value}. */
  public static Predicate gt(String column, Object value) {
    return compare(column, Comparison.Op.GT, value);
  }

  /** {@code column >= value}. */
  public static Predicate ge(String column, Object value) {
    return compare(column, Comparison.Op.GE, value);
  }

  /** {@code column IS NULL}. */
  public static Predicate isNull(String column) {
    return Predicate.newBuilder().setIsNull(checkColumn(column)).build();
  }

  /** {@code column IS NOT NULL}. */
  public static Predicate isNotNull(String column) {
    return Predicate.newBuilder().setIsNotNull(checkColumn(column)).build();
  }

  /** Every term holds; needs at least one term. */
  public static Predicate and(Predicate... terms) {
    return Predicate.newBuilder()
        .setAnd(And.newBuilder().addAllTerms(checkTerms("and", terms)))
        .build();
  }

  /** At least one term holds; needs at least one term. */
  public static Predicate or(Predicate... terms) {
    return Predicate.newBuilder()
        .setOr(Or.newBuilder().addAllTerms(checkTerms("or", terms)))
        .build();
  }

  /** The term does not hold. */
  public static Predicate not(Predicate term) {
    requireNonNull(term, "term is null");
    return Predicate.newBuilder().setNot(Not.newBuilder().setTerm(term)).build();
  }

  /** A filter holding a predicate tree. */
  public static Filter predicate(Predicate predicate) {
    requireNonNull(predicate, "predicate is null");
    return Filter.newBuilder().setPredicate(predicate).build();
  }

  /**
   * A filter holding a serialised Substrait ExtendedExpression with one boolean expression over the
   * table's columns (what {@code pyarrow.substrait.serialize_expressions} makes). The bytes are
   * copied.
   */
  public static Filter substrait(byte[] extendedExpression) {
    requireNonNull(extendedExpression, "extendedExpression is null");
    if (extendedExpression.length == 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_FILTER, "A Substrait filter needs a non-empty expression");
    }
    return Filter.newBuilder().setSubstrait(ByteString.copyFrom(extendedExpression)).build();
  }

  /** The wire literal of a Java value; see the class comment for the accepted types. */
  public static Literal literal(Object value) {
    Literal.Builder literal = Literal.newBuilder();
    if (value instanceof Boolean b) {
      return literal.setBoolValue(b).build();
    }
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return literal.setLongValue(((Number) value).longValue()).build();
    }
    if (value instanceof Double || value instanceof Float) {
      return literal.setDoubleValue(((Number) value).doubleValue()).build();
    }
    if (value instanceof String s) {
      return literal.setStringValue(s).build();
    }
    if (value instanceof byte[] bytes) {
      return literal.setBinaryValue(ByteString.copyFrom(bytes)).build();
    }
    throw new QuiverException(
        QuiverErrorCode.INVALID_FILTER,
        "Cannot use %s as a filter literal: use a boolean, integer, floating-point number, string"
            + " or byte[]",
        value == null ? "null (use isNull)" : value.getClass().getName() + " " + value);
  }

  private static Predicate compare(String column, Comparison.Op op, Object value) {
    return Predicate.newBuilder()
        .setComparison(
            Comparison.newBuilder()
                .setColumn(checkColumn(column))
                .setOp(op)
                .setValue(literal(value)))
        .build();
  }

  private static String checkColumn(String column) {
    if (column == null || column.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_FILTER,
          "A filter column name must be non-empty but was '%s'",
          column);
    }
    return column;
  }

  private static Iterable<Predicate> checkTerms(String what, Predicate... terms) {
    if (terms == null || terms.length == 0) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_FILTER, "%s() needs at least one term", what);
    }
    for (Predicate term : terms) {
      requireNonNull(term, what + " term is null");
    }
    return Arrays.asList(terms);
  }
}
