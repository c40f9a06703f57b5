package dev.quiver.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs each benchmark's setup, one operation and teardown on tiny data, so that {@code mvn verify}
 * proves the benchmarks still work. Times nothing. The teardowns fail on leaked Arrow memory.
 */
class BenchmarksSmokeTest {
  @ParameterizedTest
  @ValueSource(strings = {"grpc-netty", "grpc-netty-shaded"})
  void transportBenchmarkGetsAndPutsEveryRow(String transport) throws Exception {
    TransportBenchmark benchmark = new TransportBenchmark();
    benchmark.transport = transport;
    benchmark.batches = 3;
    benchmark.rowsPerBatch = 1000;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      assertThat(benchmark.doGet(counters)).isEqualTo(3000);
      benchmark.doPut(counters);
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(6000);
    // Four int64 columns, plus the validity buffers Arrow allocates even for non-null columns.
    assertThat(counters.megabytes).isGreaterThanOrEqualTo(2 * 3000 * 4 * 8 / 1e6);
  }

  @ParameterizedTest
  @ValueSource(strings = {"int64x4", "mixed"})
  void roundTripBenchmarkScansAndPutsEveryRow(String shape) throws Exception {
    QuiverRoundTripBenchmark benchmark = new QuiverRoundTripBenchmark();
    benchmark.shape = shape;
    benchmark.loadBatches = 3;
    benchmark.putBatches = 2;
    benchmark.rowsPerBatch = 500;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      assertThat(benchmark.doGet(counters)).isEqualTo(1500);
      assertThat(benchmark.doPut(counters).rows()).isEqualTo(1000);
      benchmark.dropWrittenTables();
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(2500);
    assertThat(counters.megabytes).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {"unpartitioned", "day"})
  void partitionPruningBenchmarkReadsOneDay(String layout) throws Exception {
    PartitionPruningBenchmark benchmark = new PartitionPruningBenchmark();
    benchmark.layout = layout;
    benchmark.days = 5;
    benchmark.rowsPerDay = 10;
    benchmark.filterDay = 2;
    benchmark.setUp();
    try {
      assertThat(benchmark.oneDayScan()).isEqualTo(10);
    } finally {
      benchmark.tearDown();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unpartitioned", "day"})
  void partitionedPutBenchmarkPutsEveryRow(String layout) throws Exception {
    PartitionedPutBenchmark benchmark = new PartitionedPutBenchmark();
    benchmark.layout = layout;
    benchmark.rows = 100;
    benchmark.setUp();
    try {
      assertThat(benchmark.put().rows()).isEqualTo(100);
    } finally {
      benchmark.tearDown();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"int64x4", "mixed"})
  void ipcBenchmarkEncodesAndDecodesEveryRow(String shape) throws Exception {
    IpcBenchmark benchmark = new IpcBenchmark();
    benchmark.shape = shape;
    benchmark.batches = 3;
    benchmark.rowsPerBatch = 1000;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      assertThat(benchmark.encode(counters)).isPositive();
      assertThat(benchmark.decode(counters)).isEqualTo(3000);
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(6000);
  }

  @ParameterizedTest
  @ValueSource(strings = {"int64x4", "mixed"})
  void parquetBenchmarkWritesAndScansEveryRow(String shape) throws Exception {
    ParquetBenchmark benchmark = new ParquetBenchmark();
    benchmark.shape = shape;
    benchmark.zstdLevel = 3;
    benchmark.batches = 3;
    benchmark.rowsPerBatch = 1000;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      assertThat(benchmark.write(counters)).isEqualTo(3000);
      assertThat(benchmark.scan(counters)).isEqualTo(3000);
      benchmark.deleteWritten();
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(6000);
    assertThat(counters.megabytes).isPositive();
  }

  @Test
  void sqlJdbcBenchmarkFetchesEveryRow() throws Exception {
    SqlJdbcBenchmark benchmark = new SqlJdbcBenchmark();
    benchmark.rows = 1000;
    benchmark.setUp();
    Throughput counters = new Throughput();
    try {
      benchmark.fetchAll(counters);
      assertThat(benchmark.firstRow()).isEqualTo("row-42");
    } finally {
      benchmark.tearDown();
    }
    assertThat(counters.rows).isEqualTo(1000);
  }

  @Test
  void runnerAppendsTheRootPomJvmFlagsToForks() throws Exception {
    assertThat(BenchmarkRunner.jvmFlags()).contains("--add-opens=java.base/java.nio=ALL-UNNAMED");
    assertThat(
            BenchmarkRunner.options("-jvmArgsAppend", "-Xmx1g", "TransportBenchmark")
                .getJvmArgsAppend()
                .get())
        .startsWith("-Xmx1g")
        .containsAll(BenchmarkRunner.jvmFlags());
  }
}
