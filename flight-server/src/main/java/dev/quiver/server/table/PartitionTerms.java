package dev.quiver.server.table;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.UpdatePartitionSpec;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.expressions.Term;
import org.apache.iceberg.transforms.Transform;
import org.apache.iceberg.transforms.Transforms;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Partition terms as users write them ({@code "day(ts)"}, {@code "bucket(16, id)"}, {@code
 * "truncate(4, name)"}, {@code "region"} or {@code "identity(region)"}), checked against a table's
 * schema and applied to an Iceberg {@link UpdatePartitionSpec}.
 *
 * <p>The argument order follows Iceberg's and Trino's: {@code bucket(N, column)} and {@code
 * truncate(W, column)}.
 */
final class PartitionTerms {
  private static final Pattern CALL =
      Pattern.compile("^\\s*([A-Za-z]+)\\s*\\(\\s*(?:(\\d+)\\s*,\\s*)?([^,()]+?)\\s*\\)\\s*$");
  private static final Pattern BARE = Pattern.compile("^\\s*([^,()\\s]+)\\s*$");

  private PartitionTerms() {}

  /** One parsed term: the transform, its numeric argument (0 if none) and its source column. */
  record PartitionTerm(String transform, int argument, String column, String text) {
    /** The Iceberg transform, as Transforms builds it for {@code type}. */
    Transform<?, ?> icebergTransform() {
      return switch (transform) {
        case "identity" -> Transforms.identity();
        case "year" -> Transforms.year();
        case "month" -> Transforms.month();
        case "day" -> Transforms.day();
        case "hour" -> Transforms.hour();
        case "bucket" -> Transforms.bucket(argument);
        case "truncate" -> Transforms.truncate(argument);
        default -> throw new IllegalStateException(transform);
      };
    }

    /** The Iceberg term for UpdatePartitionSpec.addField. */
    Term term() {
      return switch (transform) {
        case "identity" -> Expressions.ref(column);
        case "year" -> Expressions.year(column);
        case "month" -> Expressions.month(column);
        case "day" -> Expressions.day(column);
        case "hour" -> Expressions.hour(column);
        case "bucket" -> Expressions.bucket(column, argument);
        case "truncate" -> Expressions.truncate(column, argument);
        default -> throw new IllegalStateException(transform);
      };
    }
  }

  /**
   * Parses and checks {@code texts} against {@code schema}: INVALID_ARGUMENT naming the term for a
   * malformed one, naming the column and the transform for a column that is missing, nested or of a
   * type the transform does not take, or for the same column and transform given twice.
   */
  static List<PartitionTerm> parse(
      TableId id,
      Schema schema,
      org.apache.arrow.vector.types.pojo.Schema arrowSchema,
      List<String> texts) {
    List<PartitionTerm> terms = new ArrayList<>();
    for (String text : texts) {
      PartitionTerm term = parseOne(text);
      String column = term.column();
      Types.NestedField field =
          schema.columns().stream()
              .filter(c -> c.name().equals(column))
              .findFirst()
              .or(
                  () ->
                      schema.columns().stream()
                          .filter(c -> c.name().equalsIgnoreCase(column))
                          .findFirst())
              .orElse(null);
      if (field == null) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Cannot partition table %s by %s: it has no top-level column %s",
            id,
            term.text(),
            term.column());
      }
      term = new PartitionTerm(term.transform(), term.argument(), field.name(), term.text());
      Type type = field.type();
      org.apache.arrow.vector.types.pojo.Field arrowField =
          arrowSchema.getFields().get(schema.columns().indexOf(field));
      if (!term.icebergTransform().canTransform(type) || !routable(type, arrowField)) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "Cannot partition table %s by %s: transform %s does not apply to column %s of type %s",
            id,
            term.text(),
            term.transform(),
            field.name(),
            type);
      }
      for (PartitionTerm earlier : terms) {
        if (earlier.column().equals(term.column())
            && earlier.transform().equals(term.transform())) {
          throw new QuiverException(
              QuiverErrorCode.INVALID_ARGUMENT,
              "Cannot partition table %s by %s: column %s has transform %s twice",
              id,
              term.text(),
              term.column(),
              term.transform());
        }
      }
      terms.add(term);
    }
    return List.copyOf(terms);
  }

  /** Whether puts can route rows by a column of this type (see {@link ArrowRow}). */
  private static boolean routable(Type type, org.apache.arrow.vector.types.pojo.Field arrow) {
    if (arrow.getDictionary() != null
        || arrow.getType() instanceof org.apache.arrow.vector.types.pojo.ArrowType.FloatingPoint fp
            && fp.getPrecision() == org.apache.arrow.vector.types.FloatingPointPrecision.HALF) {
      return false;
    }
    return switch (type.typeId()) {
      case BOOLEAN,
          INTEGER,
          LONG,
          FLOAT,
          DOUBLE,
          DATE,
          TIMESTAMP,
          TIMESTAMP_NANO,
          STRING,
          DECIMAL,
          BINARY ->
          true;
      default -> false;
    };
  }

  private static PartitionTerm parseOne(String text) {
    Matcher call = CALL.matcher(text);
    if (call.matches()) {
      String transform = call.group(1).toLowerCase(Locale.ROOT);
      boolean takesArgument = transform.equals("bucket") || transform.equals("truncate");
      boolean known =
          takesArgument || List.of("identity", "year", "month", "day", "hour").contains(transform);
      if (known && takesArgument == (call.group(2) != null)) {
        int argument = 0;
        if (takesArgument) {
          try {
            argument = Integer.parseInt(call.group(2));
          } catch (NumberFormatException e) {
            argument = -1;
          }
          if (argument < 1) {
            throw malformed(text);
          }
        }
        return new PartitionTerm(transform, argument, call.group(3), text);
      }
      throw malformed(text);
    }
    Matcher bare = BARE.matcher(text);
    if (bare.matches()) {
      return new PartitionTerm("identity", 0, bare.group(1), text);
    }
    throw malformed(text);
  }

  private static QuiverException malformed(String text) {
    return new QuiverException(
        QuiverErrorCode.INVALID_ARGUMENT,
        "Partition term '%s' is not one of column, identity(column), year(column),"
            + " month(column), day(column), hour(column), bucket(N, column), truncate(W, column)"
            + " (N, W >= 1)",
        text.length() > 100 ? text.substring(0, 100) + "..." : text);
  }

  /**
   * Makes {@code update} turn {@code current} into a spec of exactly {@code terms}: fields that
   * stay are left alone (their files stay in their partitions), the others are removed, new ones
   * added. Returns whether anything changes.
   */
  static boolean apply(
      PartitionSpec current, Schema schema, List<PartitionTerm> terms, UpdatePartitionSpec update) {
    List<PartitionField> kept = new ArrayList<>();
    boolean changed = false;
    for (PartitionTerm term : terms) {
      int sourceId = schema.findField(term.column()).fieldId();
      PartitionField existing =
          current.fields().stream()
              .filter(f -> f.sourceId() == sourceId)
              .filter(f -> f.transform().toString().equals(term.icebergTransform().toString()))
              .findFirst()
              .orElse(null);
      if (existing != null) {
        kept.add(existing);
      } else {
        update.addField(term.term());
        changed = true;
      }
    }
    for (PartitionField field : current.fields()) {
      if (!kept.contains(field)) {
        update.removeField(field.name());
        changed = true;
      }
    }
    return changed;
  }
}
