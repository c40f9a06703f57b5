package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * One change of a table's schema, as ALTER TABLE asks for it; {@link IcebergTableStore#alterSchema}
 * commits it as one Iceberg schema update, keeping every column's field id. Column names are as the
 * statement wrote them: the store matches them to the table's columns ignoring case, as SQL does.
 */
public sealed interface SchemaChange {
  /** The column the change is about (for an added column, its name). */
  String column();

  /** Adds {@code field} (its name, Arrow type and nullability) after the last column. */
  record AddColumn(Field field) implements SchemaChange {
    public AddColumn {
      requireNonNull(field, "field is null");
    }

    @Override
    public String column() {
      return field.getName();
    }
  }

  /** Adds nullable {@code fields} after the last column, in order (a put's add_columns). */
  record AddColumns(List<Field> fields) implements SchemaChange {
    public AddColumns {
      fields = List.copyOf(fields);
      if (fields.isEmpty()) {
        throw new IllegalArgumentException("No columns to add");
      }
    }

    @Override
    public String column() {
      return fields.get(0).getName();
    }
  }

  /** Drops a column; its data stays in old files but is never read again. */
  record DropColumn(String column) implements SchemaChange {
    public DropColumn {
      requireNonNull(column, "column is null");
    }
  }

  /** Renames a column; its field id, and so its data, stay. */
  record RenameColumn(String column, String newName) implements SchemaChange {
    public RenameColumn {
      requireNonNull(column, "column is null");
      requireNonNull(newName, "newName is null");
    }
  }

  /**
   * Widens a column's type as Iceberg allows: int to bigint, float to double, decimal precision.
   */
  record WidenColumn(String column, ArrowType type) implements SchemaChange {
    public WidenColumn {
      requireNonNull(column, "column is null");
      requireNonNull(type, "type is null");
    }
  }

  /** Lets a NOT NULL column hold nulls. */
  record DropNotNull(String column) implements SchemaChange {
    public DropNotNull {
      requireNonNull(column, "column is null");
    }
  }
}
