package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.table.StorageIo.Op;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.io.FileIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MeteredFileIO counts what its delegate does and changes nothing else. */
class MeteredFileIOTest {
  @TempDir Path dir;

  private final StorageIo io = new StorageIo("local");
  private final List<String> seen = new ArrayList<>();

  private FileIO metered() {
    LocalFileIO local = new LocalFileIO();
    local.initialize(Map.of());
    io.listen((op, bytes, nanos) -> seen.add(op.label() + " " + bytes));
    return new MeteredFileIO(local, io);
  }

  @Test
  void readsWritesAndDeletesAreCountedOncePerFile() throws IOException {
    FileIO fileIo = metered();
    String location = LocalFileIO.toLocation(dir.resolve("f.bin"));
    try (OutputStream out = fileIo.newOutputFile(location).create()) {
      out.write(new byte[1000]);
      out.write(7);
    }
    assertThat(Files.size(dir.resolve("f.bin"))).isEqualTo(1001);
    try (InputStream in = fileIo.newInputFile(location).newStream()) {
      assertThat(in.readAllBytes()).hasSize(1001);
      in.close(); // a second close records nothing more
    }
    fileIo.deleteFile(location);
    assertThat(dir.resolve("f.bin")).doesNotExist();

    assertThat(seen).containsExactly("write 1001", "read 1001", "delete 0");
    assertThat(io.totals(Op.WRITE)).extracting("operations", "bytes").containsExactly(1L, 1001L);
    assertThat(io.totals(Op.READ)).extracting("operations", "bytes").containsExactly(1L, 1001L);
    assertThat(io.totals(Op.DELETE).operations()).isEqualTo(1);
    assertThat(io.totals(Op.READ).nanos()).isPositive();
  }

  @Test
  void aBulkDeleteOnADelegateWithoutOneDeletesEachFileAndCountsThem() throws IOException {
    MeteredFileIO fileIo = (MeteredFileIO) metered();
    List<String> locations = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path file = Files.writeString(dir.resolve("d" + i), "x");
      locations.add(LocalFileIO.toLocation(file));
    }
    fileIo.deleteFiles(locations);
    try (var left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
    assertThat(io.totals(Op.DELETE).operations()).isEqualTo(3);
  }

  @Test
  void aDelegateWithoutPrefixOperationsRefusesThemByName() {
    MeteredFileIO fileIo = (MeteredFileIO) metered();
    assertThatThrownBy(() -> fileIo.deletePrefix(LocalFileIO.toLocation(dir)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("LocalFileIO has no prefix operations");
  }

  @Test
  void aFailedReadIsTheDelegatesFailure() {
    FileIO fileIo = metered();
    String missing = LocalFileIO.toLocation(dir.resolve("missing"));
    assertThatThrownBy(() -> fileIo.newInputFile(missing).newStream())
        .isInstanceOf(org.apache.iceberg.exceptions.NotFoundException.class);
    assertThat(seen).isEmpty();
  }
}
