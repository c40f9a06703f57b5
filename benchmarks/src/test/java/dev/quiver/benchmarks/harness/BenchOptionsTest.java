package dev.quiver.benchmarks.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.benchmarks.BenchmarkData;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
  @Test
  void defaultsMatchArrowsFlightBenchmark() {
    BenchOptions options = BenchOptions.parse(List.of());

    assertThat(options.uri()).isEqualTo(URI.create("grpc://127.0.0.1:8815"));
    assertThat(options.mode()).isEqualTo(BenchOptions.Mode.GET);
    assertThat(options.streams()).isEqualTo(4);
    assertThat(options.threads()).isEqualTo(1);
    assertThat(options.recordsPerStream()).isEqualTo(10_000_000);
    assertThat(options.recordsPerBatch()).isEqualTo(65_536);
    assertThat(options.shape()).isEqualTo(BenchmarkData.Shape.INT64X4);
    assertThat(options.compression()).isEqualTo(BenchOptions.Compression.NONE);
    assertThat(options.warmup()).isEqualTo(1);
    assertThat(options.runs()).isEqualTo(5);
    assertThat(options.path()).containsExactly("bench", "table");
    assertThat(options.ticket()).isEmpty();
    assertThat(options.load()).isTrue();
    assertThat(options.usesTls()).isFalse();
    assertThat(options.auth()).isEqualTo(BenchOptions.Auth.NONE);
    assertThat(options.jsonOut()).isEmpty();
    assertThat(options.progress()).isTrue();
    assertThat(options.query()).isEqualTo("SELECT * FROM bench.table");
    assertThat(options.endpoints()).isEqualTo(BenchOptions.Endpoints.SEQUENTIAL);
  }

  @Test
  void everyOptionIsParsed() {
    BenchOptions options =
        BenchOptions.parse(
            List.of(
                "--uri=grpc+tls://example.org:443",
                "--mode",
                "PUT",
                "--streams",
                "8",
                "--threads",
                "2",
                "--records-per-stream",
                "1_000_000",
                "--records-per-batch",
                "4096",
                "--schema",
                "mixed",
                "--compression",
                "zstd",
                "--warmup",
                "0",
                "--runs",
                "3",
                "--path",
                "ns/t",
                "--no-load",
                "--tls-roots",
                "/tmp/roots.pem",
                "--tls-skip-verify",
                "--tls-override-hostname",
                "quiver.local",
                "--token",
                "s3cret",
                "--json",
                "out/r.json",
                "--label",
                "nightly",
                "--no-progress"));

    assertThat(options.uri()).isEqualTo(URI.create("grpc+tls://example.org:443"));
    assertThat(options.usesTls()).isTrue();
    assertThat(options.mode()).isEqualTo(BenchOptions.Mode.PUT);
    assertThat(options.streams()).isEqualTo(8);
    assertThat(options.threads()).isEqualTo(2);
    assertThat(options.recordsPerStream()).isEqualTo(1_000_000);
    assertThat(options.recordsPerBatch()).isEqualTo(4096);
    assertThat(options.shape()).isEqualTo(BenchmarkData.Shape.MIXED);
    assertThat(options.compression()).isEqualTo(BenchOptions.Compression.ZSTD);
    assertThat(options.warmup()).isZero();
    assertThat(options.runs()).isEqualTo(3);
    assertThat(options.path()).containsExactly("ns", "t");
    assertThat(options.load()).isFalse();
    assertThat(options.tls().trustedCertificates()).contains(Path.of("/tmp/roots.pem"));
    assertThat(options.tls().skipVerify()).isTrue();
    assertThat(options.tls().overrideHostname()).contains("quiver.local");
    assertThat(options.auth().token()).contains("s3cret");
    assertThat(options.auth().toString()).doesNotContain("s3cret");
    assertThat(options.jsonOut()).contains(Path.of("out/r.json"));
    assertThat(options.label()).isEqualTo("nightly");
    assertThat(options.progress()).isFalse();
    assertThat(options.rowsPerRun()).isEqualTo(8_000_000);
    assertThat(options.describe())
        .containsEntry("mode", "put")
        .containsEntry("schema", "mixed")
        .containsEntry("auth", "token")
        .doesNotContainValue("s3cret");
  }

  @Test
  void ticketAndSqlAndBasicAuthAreParsed() {
    BenchOptions get = BenchOptions.parse(List.of("--ticket", "base64:AQID"));
    assertThat(get.ticket()).hasValueSatisfying(t -> assertThat(t).containsExactly(1, 2, 3));
    BenchOptions text = BenchOptions.parse(List.of("--ticket", "abc"));
    assertThat(text.ticket())
        .hasValueSatisfying(t -> assertThat(t).isEqualTo("abc".getBytes(StandardCharsets.UTF_8)));
    BenchOptions sql =
        BenchOptions.parse(
            List.of("--mode", "sql", "--sql", "SELECT 1", "--user", "u", "--password", "p"));
    assertThat(sql.query()).isEqualTo("SELECT 1");
    assertThat(sql.auth().user()).contains("u");
    assertThat(sql.describe()).containsEntry("auth", "basic").containsEntry("sql", "SELECT 1");
  }

  @Test
  void badArgumentsAreRefusedByName() {
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--streams", "0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--streams must be at least 1, not 0");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--streams", "many")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--streams must be a whole number, not many");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--mode", "exchange")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--mode must be one of get, put, sql, not exchange");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--schema", "wide")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--schema must be one of int64x4, mixed, not wide");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--frobnicate", "1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Unknown option --frobnicate (see --help)");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--runs")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--runs needs a value");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--runs", "1", "--runs", "2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--runs given twice");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--uri", "http://localhost:80")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "--uri must be grpc://host:port or grpc+tls://host:port, not http://localhost:80");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--mode", "put", "--ticket", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--ticket only applies to --mode get");
    assertThat(BenchOptions.parse(List.of("--endpoints", "parallel")).endpoints())
        .isEqualTo(BenchOptions.Endpoints.PARALLEL);
    assertThatThrownBy(
            () -> BenchOptions.parse(List.of("--mode", "put", "--endpoints", "parallel")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--endpoints parallel applies to --mode get (without --ticket) and sql");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--user", "u")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--user and --password go together");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--no-load=yes")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--no-load takes no value");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("stray")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Unexpected argument stray (see --help)");
  }
}
