package dev.quiver.server.table.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.table.parquet.ParquetWriteOptions.Compression;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ParquetWriteOptionsTest {
  @Test
  void defaults() {
    assertThat(ParquetWriteOptions.DEFAULTS)
        .isEqualTo(
            new ParquetWriteOptions(
                Compression.ZSTD, OptionalInt.empty(), 1_048_576, 512L * 1024 * 1024));
  }

  @Test
  void explicitValues() {
    ParquetWriteOptions options =
        new ParquetWriteOptions(Compression.ZSTD, OptionalInt.of(9), 1000, 4096);

    assertThat(options.compressionLevel()).hasValue(9);
    assertThat(options.rowGroupRows()).isEqualTo(1000);
    assertThat(options.targetFileBytes()).isEqualTo(4096);
    assertThat(options.withCompression(Compression.LZ4).compression()).isEqualTo(Compression.LZ4);
    assertThat(options.withRowGroupRows(5).rowGroupRows()).isEqualTo(5);
    assertThat(options.withTargetFileBytes(6).targetFileBytes()).isEqualTo(6);
  }

  @Test
  void zstdWithoutALevelIsWrittenAtLevelOneAndOtherCodecsAtTheirOwnDefault() {
    assertThat(ParquetWriteOptions.DEFAULTS.levelToWrite()).hasValue(1);
    assertThat(
            new ParquetWriteOptions(Compression.ZSTD, OptionalInt.of(9), 1000, 4096).levelToWrite())
        .hasValue(9);
    assertThat(ParquetWriteOptions.DEFAULTS.withCompression(Compression.SNAPPY).levelToWrite())
        .isEmpty();
  }

  @Test
  void parsesCodecNames() {
    assertThat(Compression.fromName("Snappy")).isEqualTo(Compression.SNAPPY);
    assertThat(Compression.fromName(" uncompressed ")).isEqualTo(Compression.UNCOMPRESSED);
    assertThatThrownBy(() -> Compression.fromName("brotli"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Unknown Parquet compression 'brotli': use zstd, snappy, gzip, lz4 or uncompressed");
  }

  @Test
  void refusesInvalidValues() {
    assertThatThrownBy(() -> new ParquetWriteOptions(Compression.GZIP, OptionalInt.of(3), 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A compression level applies to zstd only, not gzip");
    assertThatThrownBy(() -> new ParquetWriteOptions(Compression.ZSTD, OptionalInt.of(23), 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("zstd compression level must be 1..22, got 23");
    assertThatThrownBy(() -> ParquetWriteOptions.DEFAULTS.withRowGroupRows(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rowGroupRows must be positive, got 0");
    assertThatThrownBy(() -> ParquetWriteOptions.DEFAULTS.withTargetFileBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("targetFileBytes must be positive, got -1");
  }
}
