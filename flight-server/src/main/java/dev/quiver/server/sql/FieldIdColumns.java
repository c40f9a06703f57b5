package dev.quiver.server.sql;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.table.QuiverTable;
import java.util.List;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.iceberg.types.Types;

/**
 * How DuckDB finds a table's columns in its Parquet files: by name while the table has had one
 * schema, by Parquet field id once its schema has changed ({@code ALTER TABLE}, or another engine's
 * schema update), so that a renamed column keeps its data, a dropped column's data is never read
 * again (not even under a new column of the same name), an added column reads as nulls from files
 * written before it and a widened column reads as its new type. The field ids are the Iceberg
 * column ids, which Quiver's writer and, by the Iceberg spec, every other engine's write into each
 * file's Parquet schema.
 *
 * @param option the {@code read_parquet} option to append ({@code , schema = MAP {...}}), or "" to
 *     read by name
 */
record FieldIdColumns(String option) {
  /** Reads by name. */
  static final FieldIdColumns BY_NAME = new FieldIdColumns("");

  FieldIdColumns {
    requireNonNull(option, "option is null");
  }

  /** How to read {@code table}'s files: by field id once its schema has changed, else by name. */
  static FieldIdColumns of(QuiverTable table) {
    if (!table.schemaEvolved()) {
      return BY_NAME;
    }
    return byFieldId(table);
  }

  /** Reads {@code table}'s columns by field id, whatever its history. */
  static FieldIdColumns byFieldId(QuiverTable table) {
    List<Field> fields = table.arrowSchema().getFields();
    List<Types.NestedField> columns = table.table().schema().columns();
    if (fields.size() != columns.size()) {
      throw new IllegalStateException(
          "Table "
              + table.id()
              + " has "
              + fields.size()
              + " Arrow columns but "
              + columns.size()
              + " Iceberg columns");
    }
    StringBuilder option = new StringBuilder(", schema = MAP {");
    for (int i = 0; i < fields.size(); i++) {
      option.append(i == 0 ? "" : ", ").append(columns.get(i).fieldId()).append(": {name: ");
      option.append(SqlText.literal(fields.get(i).getName())).append(", type: ");
      option.append(SqlText.literal(DuckDbTypes.sqlType(fields.get(i))));
      option.append(", default_value: NULL}");
    }
    return new FieldIdColumns(option.append('}').toString());
  }
}
