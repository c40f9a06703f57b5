package dev.quiver.server.table.filter;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import org.apache.iceberg.expressions.Expression;

/**
 * A row filter ready for a scan: Substrait for Arrow's Parquet reader and an Iceberg expression for
 * pruning data files, both made by {@link FilterTranslator}.
 *
 * <p>{@link #substrait()} is a direct buffer holding a serialized Substrait {@code
 * ExtendedExpression}, for {@code ScanOptions.Builder.substraitFilter}; each call returns a new
 * read-only view, so one ScanFilter may serve several scans on several threads. The Iceberg
 * expression keeps every file the Substrait filter could match (it may keep more), so use it with
 * {@code TableScan.filter} for pruning only and always apply the Substrait filter to the rows.
 *
 * @param substrait the serialized ExtendedExpression, a direct buffer whose capacity is its size
 * @param iceberg the same predicate for Iceberg, or {@code alwaysTrue()} for a raw Substrait filter
 * @param sql the same predicate as a DuckDB condition, or null for a raw Substrait filter (which
 *     only arrow-dataset can apply)
 */
public record ScanFilter(ByteBuffer substrait, Expression iceberg, SqlFilter sql) {
  /** A filter that only arrow-dataset can apply. */
  public ScanFilter(ByteBuffer substrait, Expression iceberg) {
    this(substrait, iceberg, null);
  }

  public ScanFilter {
    requireNonNull(substrait, "substrait is null");
    requireNonNull(iceberg, "iceberg is null");
    if (!substrait.isDirect()) {
      throw new IllegalArgumentException("substrait must be a direct buffer");
    }
    if (substrait.position() != 0 || substrait.limit() != substrait.capacity()) {
      // Arrow's JNI reads from the buffer's address to its capacity, ignoring position and limit.
      throw new IllegalArgumentException("substrait must span its whole capacity");
    }
    substrait = substrait.asReadOnlyBuffer();
  }

  /** The serialized ExtendedExpression: a fresh read-only view of the direct buffer. */
  @Override
  public ByteBuffer substrait() {
    return substrait.duplicate();
  }
}
