package dev.quiver.server.table.filter;

import dev.quiver.proto.v1.And;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Not;
import dev.quiver.proto.v1.Or;
import dev.quiver.proto.v1.Predicate;
import io.substrait.proto.Expression;
import io.substrait.proto.ExtendedExpression;
import io.substrait.proto.FunctionArgument;
import io.substrait.proto.SimpleExtensionDeclaration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Reads a client's raw Substrait filter back as a Quiver {@link Predicate} when it says only what a
 * predicate can: {@code and}, {@code or}, {@code not}, {@code is_null}, {@code is_not_null} and the
 * six comparisons between a top-level column and a literal of that column's kind (integer with an
 * integer column, floating point with a floating-point column, string with a string column, boolean
 * with a boolean column). Such a filter can then run in DuckDB like any predicate, paced by the
 * client, instead of on arrow-dataset's scanner, whose read-ahead has no byte bound (see
 * docs/architecture.md, "Scan read-ahead"). Anything else (other functions, casts, nested fields,
 * dates, decimals, a literal of another kind than its column) gives empty, and the filter keeps
 * going to arrow-dataset as it is.
 *
 * <p>Stateless and thread-safe.
 */
final class SubstraitPredicates {
  private SubstraitPredicates() {}

  /**
   * The predicate {@code expression} (whose one expression is over {@code columns}, the table's
   * fields in order) says, or empty when it says something a predicate cannot.
   */
  static Optional<Predicate> toPredicate(ExtendedExpression expression, List<Field> columns) {
    Map<Integer, String> functions = new HashMap<>();
    for (SimpleExtensionDeclaration declaration : expression.getExtensionsList()) {
      if (declaration.hasExtensionFunction()) {
        String name = declaration.getExtensionFunction().getName();
        int colon = name.indexOf(':');
        functions.put(
            declaration.getExtensionFunction().getFunctionAnchor(),
            colon < 0 ? name : name.substring(0, colon));
      }
    }
    Reader reader = new Reader(functions, columns);
    return Optional.ofNullable(reader.predicate(expression.getReferredExpr(0).getExpression()));
  }

  /** Walks one expression; every method returns null for what a predicate cannot say. */
  private record Reader(Map<Integer, String> functions, List<Field> columns) {
    Predicate predicate(Expression expression) {
      if (!expression.hasScalarFunction()) {
        return null;
      }
      Expression.ScalarFunction call = expression.getScalarFunction();
      String name = functions.get(call.getFunctionReference());
      if (name == null) {
        return null;
      }
      List<Expression> args = arguments(call);
      if (args == null) {
        return null;
      }
      return switch (name) {
        case "and", "or" -> connective(name, args);
        case "not" -> args.size() != 1 ? null : not(predicate(args.get(0)));
        case "is_null", "is_not_null" -> nullTest(name, args);
        case "equal" -> comparison(Comparison.Op.EQ, Comparison.Op.EQ, args);
        case "not_equal" -> comparison(Comparison.Op.NE, Comparison.Op.NE, args);
        case "lt" -> comparison(Comparison.Op.LT, Comparison.Op.GT, args);
        case "lte" -> comparison(Comparison.Op.LE, Comparison.Op.GE, args);
        case "gt" -> comparison(Comparison.Op.GT, Comparison.Op.LT, args);
        case "gte" -> comparison(Comparison.Op.GE, Comparison.Op.LE, args);
        default -> null;
      };
    }

    private static List<Expression> arguments(Expression.ScalarFunction call) {
      if (call.getArgsCount() > 0) {
        return null; // the deprecated argument form
      }
      List<Expression> args = new ArrayList<>();
      for (FunctionArgument argument : call.getArgumentsList()) {
        if (!argument.hasValue()) {
          return null; // a type or enum argument
        }
        args.add(argument.getValue());
      }
      return args;
    }

    private Predicate connective(String name, List<Expression> args) {
      if (args.isEmpty()) {
        return null;
      }
      List<Predicate> terms = new ArrayList<>();
      for (Expression arg : args) {
        Predicate term = predicate(arg);
        if (term == null) {
          return null;
        }
        terms.add(term);
      }
      return name.equals("and")
          ? Predicate.newBuilder().setAnd(And.newBuilder().addAllTerms(terms)).build()
          : Predicate.newBuilder().setOr(Or.newBuilder().addAllTerms(terms)).build();
    }

    private static Predicate not(Predicate term) {
      return term == null
          ? null
          : Predicate.newBuilder().setNot(Not.newBuilder().setTerm(term)).build();
    }

    private Predicate nullTest(String name, List<Expression> args) {
      Field column = args.size() == 1 ? column(args.get(0)) : null;
      if (column == null) {
        return null;
      }
      return name.equals("is_null")
          ? Predicate.newBuilder().setIsNull(column.getName()).build()
          : Predicate.newBuilder().setIsNotNull(column.getName()).build();
    }

    // op applies to (column, literal); flipped to (literal, column).
    private Predicate comparison(Comparison.Op op, Comparison.Op flipped, List<Expression> args) {
      if (args.size() != 2) {
        return null;
      }
      Field column = column(args.get(0));
      Expression other = args.get(1);
      Comparison.Op chosen = op;
      if (column == null) {
        column = column(args.get(1));
        other = args.get(0);
        chosen = flipped;
      }
      if (column == null || !other.hasLiteral()) {
        return null;
      }
      Literal value = literal(other.getLiteral(), column.getType());
      if (value == null) {
        return null;
      }
      return Predicate.newBuilder()
          .setComparison(
              Comparison.newBuilder().setColumn(column.getName()).setOp(chosen).setValue(value))
          .build();
    }

    /** The top-level column a direct field reference names, or null. */
    private Field column(Expression expression) {
      if (!expression.hasSelection()) {
        return null;
      }
      Expression.FieldReference selection = expression.getSelection();
      if (!selection.hasRootReference()
          || !selection.hasDirectReference()
          || !selection.getDirectReference().hasStructField()
          || selection.getDirectReference().getStructField().hasChild()) {
        return null;
      }
      int index = selection.getDirectReference().getStructField().getField();
      if (index < 0 || index >= columns.size()) {
        return null;
      }
      Field field = columns.get(index);
      // A duplicate name would make the predicate test the first column of that name.
      return columns.stream().filter(f -> f.getName().equals(field.getName())).count() == 1
          ? field
          : null;
    }

    /** The literal as a Quiver literal when it is of {@code type}'s kind, or null. */
    private static Literal literal(Expression.Literal literal, ArrowType type) {
      Literal.Builder value = Literal.newBuilder();
      switch (literal.getLiteralTypeCase()) {
        case I8, I16, I32, I64 -> {
          if (!(type instanceof ArrowType.Int)) {
            return null;
          }
          value.setLongValue(
              switch (literal.getLiteralTypeCase()) {
                case I8 -> literal.getI8();
                case I16 -> literal.getI16();
                case I32 -> literal.getI32();
                default -> literal.getI64();
              });
        }
        case FP32, FP64 -> {
          if (!(type instanceof ArrowType.FloatingPoint)) {
            return null;
          }
          value.setDoubleValue(
              literal.getLiteralTypeCase() == Expression.Literal.LiteralTypeCase.FP32
                  ? literal.getFp32()
                  : literal.getFp64());
        }
        case STRING -> {
          if (!(type instanceof ArrowType.Utf8 || type instanceof ArrowType.LargeUtf8)) {
            return null;
          }
          value.setStringValue(literal.getString());
        }
        case BOOLEAN -> {
          if (!(type instanceof ArrowType.Bool)) {
            return null;
          }
          value.setBoolValue(literal.getBoolean());
        }
        default -> {
          return null;
        }
      }
      return value.build();
    }
  }
}
