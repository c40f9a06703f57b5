package dev.quiver.server.table.filter;

import static dev.quiver.server.table.filter.FilterLiterals.invalid;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Predicate;
import io.substrait.proto.Expression;
import io.substrait.proto.ExpressionReference;
import io.substrait.proto.ExtendedExpression;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.expressions.Expressions;

/**
 * Turns a client's {@link Filter} into a {@link ScanFilter}: Substrait for Arrow's Parquet scan and
 * an Iceberg expression for pruning data files.
 *
 * <p>Stateless and thread-safe. Every problem with the filter (unknown column, a literal that does
 * not fit its column, an empty {@code And}, a oneof left unset, Substrait bytes that do not parse)
 * is a {@link dev.quiver.client.QuiverException} with {@link QuiverErrorCode#INVALID_FILTER} and a
 * message naming the table, column and value.
 */
public final class FilterTranslator {
  private FilterTranslator() {}

  /**
   * Translates {@code filter} on {@code table}, whose full schema (every column, in file order) is
   * {@code tableSchema}.
   *
   * <p>Field references in the Substrait expression are positions in {@code tableSchema}, so the
   * scan must present the dataset with exactly those columns in that order (for instance by passing
   * the schema to {@code DatasetFactory.finish(Schema)}). The Iceberg expression names columns by
   * their Arrow names and may be looser than the Substrait one (never stricter), so it only prunes.
   */
  public static ScanFilter translate(TableId table, Filter filter, Schema tableSchema) {
    requireNonNull(table, "table is null");
    requireNonNull(filter, "filter is null");
    requireNonNull(tableSchema, "tableSchema is null");
    switch (filter.getKindCase()) {
      case PREDICATE:
        return new PredicateTranslation(table, tableSchema).translate(filter.getPredicate());
      case SUBSTRAIT:
        return checkSubstrait(table, filter.getSubstrait(), tableSchema);
      default:
        throw invalid(table, "the filter has neither a predicate nor Substrait bytes");
    }
  }

  private static ScanFilter checkSubstrait(TableId table, ByteString bytes, Schema tableSchema) {
    ExtendedExpression expression;
    try {
      expression = ExtendedExpression.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw invalid(
          table, "the Substrait filter is not a serialized ExtendedExpression: %s", e.getMessage());
    }
    if (expression.getReferredExprCount() != 1) {
      throw invalid(
          table,
          "the Substrait filter must hold exactly one expression but holds %d",
          expression.getReferredExprCount());
    }
    ExpressionReference reference = expression.getReferredExpr(0);
    // Arrow's consumer reads the first output name without checking there is one.
    if (!reference.hasExpression() || reference.getOutputNamesCount() == 0) {
      throw invalid(table, "the Substrait filter's expression must be a named scalar expression");
    }
    if (!expression.hasBaseSchema() || !expression.getBaseSchema().hasStruct()) {
      throw invalid(table, "the Substrait filter has no base schema");
    }
    // Field references are positions, so a filter serialized against other columns would
    // silently test the wrong ones.
    List<String> filterColumns = SubstraitTypes.topLevelNames(expression.getBaseSchema());
    List<String> tableColumns = tableSchema.getFields().stream().map(Field::getName).toList();
    if (!filterColumns.equals(tableColumns)) {
      throw invalid(
          table,
          "the Substrait filter's base schema has columns %s but the table has %s; serialize it"
              + " against the table's full schema",
          filterColumns,
          tableColumns);
    }
    ByteBuffer substrait = directBuffer(bytes.toByteArray());
    // What a predicate can say runs in DuckDB, paced by the client, and prunes files; the client's
    // own Substrait stays the scan's Substrait form.
    Optional<Predicate> predicate =
        SubstraitPredicates.toPredicate(expression, tableSchema.getFields());
    if (predicate.isPresent()) {
      try {
        ScanFilter translated =
            new PredicateTranslation(table, tableSchema).translate(predicate.get());
        return new ScanFilter(substrait, translated.iceberg(), translated.sql());
      } catch (QuiverException e) {
        // A literal the predicate form refuses (out of its column's range, say): Arrow decides.
      }
    }
    return new ScanFilter(substrait, Expressions.alwaysTrue());
  }

  static ByteBuffer directBuffer(byte[] bytes) {
    // Arrow's JNI reads the buffer from its address up to its capacity, so it must be direct and
    // exactly as large as the message.
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
    buffer.put(bytes).flip();
    return buffer;
  }

  /** One predicate tree's translation; holds the Substrait extensions it declares. */
  private static final class PredicateTranslation {
    private final TableId table;
    private final Schema schema;
    private final Map<String, Integer> columns = new HashMap<>();
    private final SubstraitExpressions substrait = new SubstraitExpressions();

    PredicateTranslation(TableId table, Schema schema) {
      this.table = table;
      this.schema = schema;
      List<Field> fields = schema.getFields();
      for (int i = fields.size() - 1; i >= 0; i--) {
        // Iterating backwards keeps the first of duplicate names, as Arrow's lookup would.
        columns.put(fields.get(i).getName(), i);
      }
    }

    ScanFilter translate(Predicate predicate) {
      Translated result = predicate(predicate);
      ExtendedExpression expression =
          substrait.build(result.substrait(), SubstraitTypes.baseSchema(schema, substrait));
      return new ScanFilter(directBuffer(expression.toByteArray()), result.iceberg(), result.sql());
    }

    private Translated predicate(Predicate predicate) {
      switch (predicate.getKindCase()) {
        case COMPARISON:
          return comparison(predicate.getComparison());
        case AND:
          List<Translated> andTerms = terms("And", predicate.getAnd().getTermsList());
          return new Translated(
              substrait.and(map(andTerms, Translated::substrait)),
              all(map(andTerms, Translated::iceberg)),
              any(map(andTerms, Translated::negatedIceberg)),
              SqlFilter.join("AND", map(andTerms, Translated::sql)));
        case OR:
          List<Translated> orTerms = terms("Or", predicate.getOr().getTermsList());
          return new Translated(
              substrait.or(map(orTerms, Translated::substrait)),
              any(map(orTerms, Translated::iceberg)),
              all(map(orTerms, Translated::negatedIceberg)),
              SqlFilter.join("OR", map(orTerms, Translated::sql)));
        case NOT:
          if (!predicate.getNot().hasTerm()) {
            throw invalid(table, "a Not predicate has no term");
          }
          Translated term = predicate(predicate.getNot().getTerm());
          return new Translated(
              substrait.not(term.substrait()),
              term.negatedIceberg(),
              term.iceberg(),
              SqlFilter.not(term.sql()));
        case IS_NULL:
          return nullCheck(predicate.getIsNull(), true);
        case IS_NOT_NULL:
          return nullCheck(predicate.getIsNotNull(), false);
        default:
          throw invalid(
              table,
              "a predicate is empty: set one of comparison, and, or, not, is_null, is_not_null");
      }
    }

    private List<Translated> terms(String kind, List<Predicate> terms) {
      if (terms.isEmpty()) {
        throw invalid(table, "an %s predicate has no terms", kind);
      }
      List<Translated> result = new ArrayList<>(terms.size());
      for (Predicate term : terms) {
        result.add(predicate(term));
      }
      return result;
    }

    private Translated comparison(Comparison comparison) {
      int index = column(comparison.getColumn());
      Field field = schema.getFields().get(index);
      if (!comparison.hasValue()) {
        throw invalid(table, "the comparison on column %s has no literal value", field.getName());
      }
      FilterLiterals.ColumnLiteral literal =
          FilterLiterals.convert(table, field, comparison.getValue());
      Expression ref = SubstraitExpressions.field(index);
      String name = field.getName();
      org.apache.iceberg.expressions.Literal<?> value = literal.iceberg();
      SqlFilter sql = literal.sql();
      switch (comparison.getOp()) {
        case EQ:
          return new Translated(
              substrait.comparison("equal", ref, literal.substrait()),
              Expressions.equal(name, value),
              Expressions.notEqual(name, value),
              SqlFilter.compare(name, "=", sql));
        case NE:
          return new Translated(
              substrait.comparison("not_equal", ref, literal.substrait()),
              Expressions.notEqual(name, value),
              Expressions.equal(name, value),
              SqlFilter.compare(name, "<>", sql));
        case LT:
          return new Translated(
              substrait.comparison("lt", ref, literal.substrait()),
              Expressions.lessThan(name, value),
              Expressions.greaterThanOrEqual(name, value),
              SqlFilter.compare(name, "<", sql));
        case LE:
          return new Translated(
              substrait.comparison("lte", ref, literal.substrait()),
              Expressions.lessThanOrEqual(name, value),
              Expressions.greaterThan(name, value),
              SqlFilter.compare(name, "<=", sql));
        case GT:
          return new Translated(
              substrait.comparison("gt", ref, literal.substrait()),
              Expressions.greaterThan(name, value),
              Expressions.lessThanOrEqual(name, value),
              SqlFilter.compare(name, ">", sql));
        case GE:
          return new Translated(
              substrait.comparison("gte", ref, literal.substrait()),
              Expressions.greaterThanOrEqual(name, value),
              Expressions.lessThan(name, value),
              SqlFilter.compare(name, ">=", sql));
        default:
          throw invalid(table, "the comparison on column %s has no operator", name);
      }
    }

    private Translated nullCheck(String column, boolean isNull) {
      int index = column(column);
      Field field = schema.getFields().get(index);
      Expression substraitCall =
          substrait.comparison(
              isNull ? "is_null" : "is_not_null", SubstraitExpressions.field(index));
      SqlFilter sql =
          new SqlFilter(
              "("
                  + SqlFilter.identifier(field.getName())
                  + (isNull ? " IS NULL)" : " IS NOT NULL)"),
              List.of());
      if (isNested(field.getType())) {
        // Iceberg tracks no null counts for nested columns; keep every file.
        return new Translated(
            substraitCall, Expressions.alwaysTrue(), Expressions.alwaysTrue(), sql);
      }
      org.apache.iceberg.expressions.Expression nullExpression =
          Expressions.isNull(field.getName());
      org.apache.iceberg.expressions.Expression notNullExpression =
          Expressions.notNull(field.getName());
      return isNull
          ? new Translated(substraitCall, nullExpression, notNullExpression, sql)
          : new Translated(substraitCall, notNullExpression, nullExpression, sql);
    }

    private int column(String name) {
      Integer index = columns.get(name);
      if (index == null) {
        throw invalid(table, "unknown column '%s'", name);
      }
      return index;
    }

    private static boolean isNested(ArrowType type) {
      return type.isComplex();
    }

    private static <T> List<T> map(List<Translated> terms, Function<Translated, T> part) {
      return terms.stream().map(part).toList();
    }

    private static org.apache.iceberg.expressions.Expression all(
        List<org.apache.iceberg.expressions.Expression> terms) {
      org.apache.iceberg.expressions.Expression result = terms.get(0);
      for (int i = 1; i < terms.size(); i++) {
        result = Expressions.and(result, terms.get(i));
      }
      return result;
    }

    private static org.apache.iceberg.expressions.Expression any(
        List<org.apache.iceberg.expressions.Expression> terms) {
      org.apache.iceberg.expressions.Expression result = terms.get(0);
      for (int i = 1; i < terms.size(); i++) {
        result = Expressions.or(result, terms.get(i));
      }
      return result;
    }
  }

  /**
   * A translated predicate. Iceberg's form is kept with negation already pushed to the leaves (as
   * Iceberg's own rewriteNot would do) so that a leaf Iceberg cannot judge can become alwaysTrue
   * under any number of Nots and still only widen the set of files kept.
   */
  private record Translated(
      Expression substrait,
      org.apache.iceberg.expressions.Expression iceberg,
      org.apache.iceberg.expressions.Expression negatedIceberg,
      SqlFilter sql) {}
}
