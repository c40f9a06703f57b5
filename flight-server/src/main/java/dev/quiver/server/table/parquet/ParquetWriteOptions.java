package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * How {@link DuckDbParquetWriter} lays out Parquet files: codec, row-group size and target file
 * size.
 *
 * @param compression the Parquet codec
 * @param compressionLevel the codec level, only for zstd (1..22); empty for {@link #levelToWrite}'s
 *     default
 * @param rowGroupRows the rows per row group, at least 1; DuckDB closes a row group once it holds
 *     this many rows, so groups come out rounded up to whole chunks (2,048 rows) or incoming
 *     batches
 * @param targetFileBytes the file size the writer aims at, at least 1; files end at incoming batch
 *     boundaries and the size is estimated from the compression ratio so far, so it is approximate
 */
public record ParquetWriteOptions(
    Compression compression,
    OptionalInt compressionLevel,
    long rowGroupRows,
    long targetFileBytes) {
  /** The default codec: zstd reads fast and compresses well. */
  public static final Compression DEFAULT_COMPRESSION = Compression.ZSTD;

  /** The default rows per row group (DuckDB's and Arrow's usual 1 Mi rows). */
  public static final long DEFAULT_ROW_GROUP_ROWS = 1_048_576;

  /**
   * The zstd level written when none is given: 1, what Arrow C++ and pyarrow write by default.
   * DuckDB's own default (3) compresses slower for files of about the same size (benchmarks/
   * README.md, "DoPut: zstd level").
   */
  public static final int DEFAULT_ZSTD_LEVEL = 1;

  /** The default target file size, 512 MB, Iceberg's usual target. */
  public static final long DEFAULT_TARGET_FILE_BYTES = 512L * 1024 * 1024;

  /** The options with every default. */
  public static final ParquetWriteOptions DEFAULTS =
      new ParquetWriteOptions(
          DEFAULT_COMPRESSION,
          OptionalInt.empty(),
          DEFAULT_ROW_GROUP_ROWS,
          DEFAULT_TARGET_FILE_BYTES);

  /** The Parquet codecs Quiver writes. */
  public enum Compression {
    ZSTD,
    SNAPPY,
    GZIP,
    LZ4,
    UNCOMPRESSED;

    /** The codec named (case-insensitively) zstd, snappy, gzip, lz4 or uncompressed. */
    public static Compression fromName(String name) {
      requireNonNull(name, "name is null");
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "Unknown Parquet compression '"
                + name
                + "': use zstd, snappy, gzip, lz4 or uncompressed",
            e);
      }
    }

    /** The codec's name in DuckDB's COPY options. */
    String sqlName() {
      // DuckDB's lz4 is Parquet's LZ4_RAW, which Arrow C++ reads.
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ParquetWriteOptions {
    requireNonNull(compression, "compression is null");
    requireNonNull(compressionLevel, "compressionLevel is null");
    if (compressionLevel.isPresent()) {
      if (compression != Compression.ZSTD) {
        throw new IllegalArgumentException(
            "A compression level applies to zstd only, not " + compression.sqlName());
      }
      int level = compressionLevel.getAsInt();
      if (level < 1 || level > 22) {
        throw new IllegalArgumentException("zstd compression level must be 1..22, got " + level);
      }
    }
    if (rowGroupRows < 1) {
      throw new IllegalArgumentException("rowGroupRows must be positive, got " + rowGroupRows);
    }
    if (targetFileBytes < 1) {
      throw new IllegalArgumentException(
          "targetFileBytes must be positive, got " + targetFileBytes);
    }
  }

  /** The level to ask the writer for: the given one, zstd's default, or none (codec default). */
  public OptionalInt levelToWrite() {
    if (compressionLevel.isPresent() || compression != Compression.ZSTD) {
      return compressionLevel;
    }
    return OptionalInt.of(DEFAULT_ZSTD_LEVEL);
  }

  /** These options with another row-group size. */
  ParquetWriteOptions withRowGroupRows(long rows) {
    return new ParquetWriteOptions(compression, compressionLevel, rows, targetFileBytes);
  }

  /** These options with another target file size. */
  ParquetWriteOptions withTargetFileBytes(long bytes) {
    return new ParquetWriteOptions(compression, compressionLevel, rowGroupRows, bytes);
  }

  /** These options with another codec and its default level. */
  ParquetWriteOptions withCompression(Compression codec) {
    return new ParquetWriteOptions(codec, OptionalInt.empty(), rowGroupRows, targetFileBytes);
  }
}
