package dev.quiver.server.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {
  @Test
  void duckDbRunningOutOfMemoryWhileStreamingIsResourceExhaustedNamingTheLimit() {
    // What DuckDB's C stream hands back through arrow-c-data when a DoGet scan runs out of memory.
    IOException streamed =
        new IOException(
            "[errno -1] CDataJniException{errno=-1, message=Out of Memory Error: failed to allocate"
                + " data of size 2.0 MiB (126.7 MiB/128.0 MiB used)\nPossible solutions:\n*"
                + " Reducing the number of threads}");

    QuiverException error = SqlErrors.outOfMemoryIn(streamed);

    assertThat(error.code()).isEqualTo(QuiverErrorCode.QUERY_MEMORY_EXCEEDED);
    assertThat(error.toFlight().status().code().name()).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(error.getMessage())
        .contains("sql.memory-limit")
        .endsWith(
            "Out of Memory Error: failed to allocate data of size 2.0 MiB"
                + " (126.7 MiB/128.0 MiB used)");
  }

  @Test
  void duckDbRunningOutOfMemoryOpeningAConnectionIsResourceExhausted() {
    // What SoakIT's 16 clients once got opening a connection while DuckDB's memory was full.
    java.sql.SQLException opening =
        new java.sql.SQLException(
            "Out of Memory Error: failed to allocate data of size 2.0 KiB (32.3 MiB/32.0 MiB"
                + " used)\n\nPossible solutions:\n* Reducing the number of threads");

    QuiverException error = SqlErrors.outOfMemoryIn(opening);

    assertThat(error.toFlight().status().code().name()).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(error.getMessage())
        .contains("sql.memory-limit")
        .endsWith("(32.3 MiB/32.0 MiB used)");
  }

  @Test
  void otherStreamFailuresAreLeftAlone() {
    assertThat(SqlErrors.outOfMemoryIn(new IOException("connection reset"))).isNull();
  }
}
