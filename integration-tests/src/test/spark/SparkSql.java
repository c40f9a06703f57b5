import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs SQL statements on Spark 4.0 (local[2]) with an Iceberg catalog named {@code quiver} on
 * Quiver's JDBC catalog database or its Iceberg REST catalog, and prints each result for SparkIT: one {@code ROW [...]} line
 * per row (each value a typed string such as {@code "F:-0.0"}, or null), then {@code DONE}.
 *
 * <p>Not compiled by Maven: SparkIT runs it with {@code java SparkSql.java} on Spark's own
 * classpath (src/test/spark/pom.xml). Arguments: the catalog's JDBC URL (or the REST catalog's
 * {@code http://} URI), its user, the warehouse (both unused for REST), then the statements.
 */
public final class SparkSql {
  public static void main(String[] args) {
    SparkSession.Builder builder =
        SparkSession.builder()
            .master("local[2]")
            .appName("quiver-spark-it")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.datetime.java8API.enabled", "true")
            .config(
                "spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
            .config("spark.sql.catalog.quiver", "org.apache.iceberg.spark.SparkCatalog");
    if (args[0].startsWith("http")) {
      // Quiver's Iceberg REST catalog: Spark reads and writes the warehouse's files itself.
      builder.config("spark.sql.catalog.quiver.type", "rest");
      builder.config("spark.sql.catalog.quiver.uri", args[0]);
    } else {
      // The Spark catalog's name is the JdbcCatalog's catalog name: Quiver's catalog.name.
      builder.config("spark.sql.catalog.quiver.type", "jdbc");
      builder.config("spark.sql.catalog.quiver.uri", args[0]);
      builder.config("spark.sql.catalog.quiver.jdbc.user", args[1]);
      builder.config("spark.sql.catalog.quiver.jdbc.password", "unused");
      builder.config("spark.sql.catalog.quiver.jdbc.schema-version", "V1");
      builder.config("spark.sql.catalog.quiver.warehouse", args[2]);
    }
    SparkSession spark = builder.getOrCreate();
    ObjectMapper json = new ObjectMapper();
    try {
      for (int s = 3; s < args.length; s++) {
        for (Row row : spark.sql(args[s]).collectAsList()) {
          List<String> values = new ArrayList<>();
          for (int c = 0; c < row.size(); c++) {
            values.add(typed(row.get(c)));
          }
          System.out.println("ROW " + json.writeValueAsString(values));
        }
        System.out.println("DONE");
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      spark.stop();
    }
  }

  private static String typed(Object value) {
    if (value == null) {
      return null;
    } else if (value instanceof Byte
        || value instanceof Short
        || value instanceof Integer
        || value instanceof Long) {
      return "I:" + value;
    } else if (value instanceof Float) {
      return "F:" + value;
    } else if (value instanceof Double) {
      return "D:" + value;
    } else if (value instanceof Boolean) {
      return "B:" + value;
    } else if (value instanceof String) {
      return "S:" + value;
    } else if (value instanceof byte[] bytes) {
      return "X:" + HexFormat.of().formatHex(bytes);
    } else if (value instanceof BigDecimal decimal) {
      return "N:" + decimal;
    } else if (value instanceof LocalDate) {
      return "DATE:" + value;
    } else if (value instanceof LocalDateTime) {
      return "TS:" + value;
    } else if (value instanceof Instant) {
      return "TSZ:" + value;
    }
    throw new IllegalArgumentException("No typed form for " + value.getClass());
  }
}
