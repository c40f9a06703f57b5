package dev.quiver.server.table;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.table.parquet.ArrowSchemas;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.SortField;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Checks a {@link SchemaChange} against a table and turns it into an Iceberg schema update and the
 * table's new Arrow schema, kept in the same column order as the Iceberg schema (the writer pairs
 * them by position). Every refusal is INVALID_ARGUMENT naming the table and the column.
 */
final class SchemaEvolution {
  /**
   * What a change does to a table.
   *
   * @param arrowSchema the table's Arrow schema after the change
   * @param update applies the change to an Iceberg schema update
   */
  record Edit(Schema arrowSchema, Consumer<UpdateSchema> update) {}

  private SchemaEvolution() {}

  /**
   * The edit {@code change} makes to {@code table}; empty when it changes nothing (a column widened
   * to the type it has, NOT NULL dropped from a nullable column). {@code hasRows}: whether the
   * table's current snapshot holds any row (a NOT NULL column can only be added to an empty table).
   */
  static Optional<Edit> plan(QuiverTable table, SchemaChange change, boolean hasRows) {
    TableId id = table.id();
    Table iceberg = table.table();
    List<Field> fields = new ArrayList<>(table.arrowSchema().getFields());
    if (change instanceof SchemaChange.AddColumn add) {
      return addColumns(id, fields, List.of(add.field()), hasRows);
    }
    if (change instanceof SchemaChange.AddColumns add) {
      return addColumns(id, fields, add.fields(), hasRows);
    }
    int index = find(id, fields, change.column());
    Field field = fields.get(index);
    String name = field.getName();
    Types.NestedField column = iceberg.schema().columns().get(index);
    if (change instanceof SchemaChange.DropColumn) {
      if (fields.size() == 1) {
        throw invalid("Cannot drop column %s: it is the last column of table %s", name, id);
      }
      refuseIfDerived(iceberg, id, column, name);
      fields.remove(index);
      return edit(fields, u -> u.deleteColumn(name));
    }
    if (change instanceof SchemaChange.RenameColumn rename) {
      refuseTaken(id, fields, rename.newName(), "rename " + name + " to");
      fields.set(index, new Field(rename.newName(), field.getFieldType(), field.getChildren()));
      return edit(fields, u -> u.renameColumn(name, rename.newName()));
    }
    if (change instanceof SchemaChange.WidenColumn widen) {
      Field widened =
          new Field(
              name,
              new FieldType(field.isNullable(), widen.type(), null, field.getMetadata()),
              List.of());
      Type to = ArrowSchemas.toIceberg(new Schema(List.of(widened))).columns().get(0).type();
      if (to.equals(column.type())) {
        if (widen.type().equals(field.getType())) {
          return Optional.empty();
        }
        throw invalid(
            "Cannot change column %s of table %s from %s to %s: Quiver stores both as Iceberg"
                + " %s, so only widening to another Iceberg type is possible",
            name, id, ArrowSchemas.typeName(field), ArrowSchemas.typeName(widened), to);
      }
      if (!column.type().isPrimitiveType()
          || !to.isPrimitiveType()
          || !TypeUtil.isPromotionAllowed(column.type(), to.asPrimitiveType())) {
        throw invalid(
            "Cannot change column %s of table %s from %s to %s: Iceberg only widens int to"
                + " bigint, float to double and decimal(P,S) to decimal(P2,S) with P2 > P",
            name, id, column.type(), to);
      }
      fields.set(index, widened);
      return edit(fields, u -> u.updateColumn(name, to.asPrimitiveType()));
    }
    if (change instanceof SchemaChange.DropNotNull) {
      if (field.isNullable() && column.isOptional()) {
        return Optional.empty();
      }
      fields.set(
          index,
          new Field(
              name,
              new FieldType(true, field.getType(), field.getDictionary(), field.getMetadata()),
              field.getChildren()));
      return edit(fields, u -> u.makeColumnOptional(name));
    }
    throw new IllegalArgumentException("Unknown schema change " + change);
  }

  private static Optional<Edit> addColumns(
      TableId id, List<Field> fields, List<Field> added, boolean hasRows) {
    List<Type> types = new ArrayList<>();
    for (Field field : added) {
      refuseTaken(id, fields, field.getName(), "add");
      if (!field.isNullable() && hasRows) {
        throw invalid(
            "Cannot add column %s to table %s as NOT NULL: the table has rows, which would have no"
                + " value for it; add it nullable",
            field.getName(), id);
      }
      types.add(ArrowSchemas.toIceberg(new Schema(List.of(field))).columns().get(0).type());
      fields.add(field);
    }
    return edit(
        fields,
        u -> {
          for (int i = 0; i < added.size(); i++) {
            Field field = added.get(i);
            if (field.isNullable()) {
              u.addColumn(field.getName(), types.get(i));
            } else {
              u.allowIncompatibleChanges().addRequiredColumn(field.getName(), types.get(i));
            }
          }
        });
  }

  private static Optional<Edit> edit(List<Field> fields, Consumer<UpdateSchema> update) {
    return Optional.of(new Edit(new Schema(fields), update));
  }

  /** The index of {@code column} among {@code fields}: exactly, else ignoring case. */
  private static int find(TableId id, List<Field> fields, String column) {
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).getName().equals(column)) {
        return i;
      }
    }
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).getName().equalsIgnoreCase(column)) {
        return i;
      }
    }
    throw invalid("Table %s has no column %s", id, column);
  }

  private static void refuseTaken(TableId id, List<Field> fields, String name, String what) {
    for (Field field : fields) {
      if (field.getName().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
        throw invalid(
            "Cannot %s column %s: table %s already has a column %s",
            what, name, id, field.getName());
      }
    }
  }

  /** Refuses to drop a column a partition spec (current or older) or the sort order uses. */
  private static void refuseIfDerived(
      Table iceberg, TableId id, Types.NestedField column, String name) {
    for (PartitionSpec spec : iceberg.specs().values()) {
      for (PartitionField partition : spec.fields()) {
        if (partition.sourceId() == column.fieldId()) {
          throw invalid(
              "Cannot drop column %s of table %s: partition field %s of the table's partitioning%s"
                  + " is derived from it",
              name,
              id,
              partition.name(),
              spec.specId() == iceberg.spec().specId() ? "" : " (an earlier spec)");
        }
      }
    }
    for (SortField sort : iceberg.sortOrder().fields()) {
      if (sort.sourceId() == column.fieldId()) {
        throw invalid("Cannot drop column %s of table %s: the table is sorted by it", name, id);
      }
    }
  }

  private static QuiverException invalid(String format, Object... args) {
    return new QuiverException(QuiverErrorCode.INVALID_ARGUMENT, format, args);
  }
}
