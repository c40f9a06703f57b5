package dev.quiver.server.table.filter;

import io.substrait.proto.Expression;
import io.substrait.proto.ExpressionReference;
import io.substrait.proto.ExtendedExpression;
import io.substrait.proto.FunctionArgument;
import io.substrait.proto.NamedStruct;
import io.substrait.proto.SimpleExtensionDeclaration;
import io.substrait.proto.SimpleExtensionURI;
import io.substrait.proto.Type;
import io.substrait.proto.Version;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one Substrait {@code ExtendedExpression} in the dialect Arrow C++'s consumer reads: the
 * functions and extension types it registers, and binary {@code and}/{@code or} (its kernels take
 * exactly two arguments).
 *
 * <p>Holds the extension anchors of the expression being built, so use one instance per expression,
 * on one thread.
 */
final class SubstraitExpressions {
  static final String COMPARISON_URI =
      "https://github.com/substrait-io/substrait/blob/main/extensions/functions_comparison.yaml";
  static final String BOOLEAN_URI =
      "https://github.com/substrait-io/substrait/blob/main/extensions/functions_boolean.yaml";

  /** Arrow's own extension types (u8..u64, fp16, null, intervals), as Arrow C++ registers them. */
  static final String ARROW_TYPES_URI =
      "https://github.com/apache/arrow/blob/main/format/substrait/extension_types.yaml";

  // Arrow's consumer rejects versions older than its minimum; 0.54 is accepted by arrow-dataset
  // 18.3 (the scan tests run every filter through it).
  private static final int SUBSTRAIT_MINOR_VERSION = 54;

  private static final Type BOOLEAN =
      Type.newBuilder()
          .setBool(Type.Boolean.newBuilder().setNullability(Type.Nullability.NULLABILITY_NULLABLE))
          .build();

  private final Map<String, Integer> uriAnchors = new LinkedHashMap<>();
  private final Map<String, SimpleExtensionDeclaration> declarations = new LinkedHashMap<>();

  /** A call of a comparison function (equal, not_equal, lt, lte, gt, gte, is_null...). */
  Expression comparison(String name, Expression... args) {
    return call(COMPARISON_URI, name, args);
  }

  /** {@code not(arg)}. */
  Expression not(Expression arg) {
    return call(BOOLEAN_URI, "not", arg);
  }

  /** {@code and} of two or more terms, nested left to right as Arrow wants binary calls. */
  Expression and(List<Expression> terms) {
    return fold("and", terms);
  }

  /** {@code or} of two or more terms, nested left to right as Arrow wants binary calls. */
  Expression or(List<Expression> terms) {
    return fold("or", terms);
  }

  /** A reference to top-level column {@code index} of the base schema. */
  static Expression field(int index) {
    Expression.ReferenceSegment segment =
        Expression.ReferenceSegment.newBuilder()
            .setStructField(Expression.ReferenceSegment.StructField.newBuilder().setField(index))
            .build();
    return Expression.newBuilder()
        .setSelection(
            Expression.FieldReference.newBuilder()
                .setDirectReference(segment)
                .setRootReference(Expression.FieldReference.RootReference.getDefaultInstance()))
        .build();
  }

  /** The anchor of one of Arrow's extension types, declaring it on first use. */
  int arrowType(String name) {
    return declare(ARROW_TYPES_URI, name, true);
  }

  /** The finished message: {@code root} as the one expression over {@code baseSchema}. */
  ExtendedExpression build(Expression root, NamedStruct baseSchema) {
    ExtendedExpression.Builder builder =
        ExtendedExpression.newBuilder()
            .setVersion(
                Version.newBuilder().setMinorNumber(SUBSTRAIT_MINOR_VERSION).setProducer("quiver"))
            .setBaseSchema(baseSchema)
            .addReferredExpr(
                ExpressionReference.newBuilder().setExpression(root).addOutputNames("filter"));
    uriAnchors.forEach(
        (uri, anchor) ->
            builder.addExtensionUris(
                SimpleExtensionURI.newBuilder().setExtensionUriAnchor(anchor).setUri(uri)));
    builder.addAllExtensions(declarations.values());
    return builder.build();
  }

  private Expression fold(String name, List<Expression> terms) {
    Expression result = terms.get(0);
    for (int i = 1; i < terms.size(); i++) {
      result = call(BOOLEAN_URI, name, result, terms.get(i));
    }
    return result;
  }

  private Expression call(String uri, String name, Expression... args) {
    Expression.ScalarFunction.Builder function =
        Expression.ScalarFunction.newBuilder()
            .setFunctionReference(declare(uri, name, false))
            .setOutputType(BOOLEAN);
    for (Expression arg : args) {
      function.addArguments(FunctionArgument.newBuilder().setValue(arg));
    }
    return Expression.newBuilder().setScalarFunction(function).build();
  }

  private int declare(String uri, String name, boolean type) {
    String key = (type ? "type:" : "function:") + uri + "#" + name;
    SimpleExtensionDeclaration existing = declarations.get(key);
    if (existing != null) {
      return type
          ? existing.getExtensionType().getTypeAnchor()
          : existing.getExtensionFunction().getFunctionAnchor();
    }
    int uriAnchor = uriAnchors.computeIfAbsent(uri, ignored -> uriAnchors.size() + 1);
    // Anchors are shared by types and functions here; Substrait only needs them unique per kind.
    int anchor = declarations.size() + 1;
    SimpleExtensionDeclaration.Builder declaration = SimpleExtensionDeclaration.newBuilder();
    if (type) {
      declaration.setExtensionType(
          SimpleExtensionDeclaration.ExtensionType.newBuilder()
              .setExtensionUriReference(uriAnchor)
              .setTypeAnchor(anchor)
              .setName(name));
    } else {
      declaration.setExtensionFunction(
          SimpleExtensionDeclaration.ExtensionFunction.newBuilder()
              .setExtensionUriReference(uriAnchor)
              .setFunctionAnchor(anchor)
              .setName(name));
    }
    declarations.put(key, declaration.build());
    return anchor;
  }
}
