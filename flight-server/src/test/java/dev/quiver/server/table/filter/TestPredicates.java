package dev.quiver.server.table.filter;

import com.google.protobuf.ByteString;
import dev.quiver.proto.v1.And;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Not;
import dev.quiver.proto.v1.Or;
import dev.quiver.proto.v1.Predicate;
import java.util.List;

/** Short builders for the filter messages the tests send. */
public final class TestPredicates {
  private TestPredicates() {}

  public static Filter filter(Predicate predicate) {
    return Filter.newBuilder().setPredicate(predicate).build();
  }

  public static Predicate compare(String column, Comparison.Op op, Literal value) {
    return Predicate.newBuilder()
        .setComparison(Comparison.newBuilder().setColumn(column).setOp(op).setValue(value))
        .build();
  }

  public static Predicate and(Predicate... terms) {
    return Predicate.newBuilder().setAnd(And.newBuilder().addAllTerms(List.of(terms))).build();
  }

  public static Predicate or(Predicate... terms) {
    return Predicate.newBuilder().setOr(Or.newBuilder().addAllTerms(List.of(terms))).build();
  }

  public static Predicate not(Predicate term) {
    return Predicate.newBuilder().setNot(Not.newBuilder().setTerm(term)).build();
  }

  public static Predicate isNull(String column) {
    return Predicate.newBuilder().setIsNull(column).build();
  }

  public static Predicate isNotNull(String column) {
    return Predicate.newBuilder().setIsNotNull(column).build();
  }

  public static Literal of(long value) {
    return Literal.newBuilder().setLongValue(value).build();
  }

  public static Literal of(double value) {
    return Literal.newBuilder().setDoubleValue(value).build();
  }

  public static Literal of(boolean value) {
    return Literal.newBuilder().setBoolValue(value).build();
  }

  public static Literal of(String value) {
    return Literal.newBuilder().setStringValue(value).build();
  }

  public static Literal of(byte[] value) {
    return Literal.newBuilder().setBinaryValue(ByteString.copyFrom(value)).build();
  }
}
