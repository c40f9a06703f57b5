package dev.quiver.benchmarks.harness;

import static java.util.Objects.requireNonNull;

import dev.quiver.benchmarks.BenchmarkData;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What one {@code quiver-bench} run measures, parsed from its command line.
 *
 * @param uri the Flight server, {@code grpc://host:port} or {@code grpc+tls://host:port}
 * @param mode get, put or sql
 * @param streams how many streams one run moves
 * @param threads how many of them run at once
 * @param recordsPerStream rows per stream
 * @param recordsPerBatch rows per record batch
 * @param shape the schema of the rows
 * @param compression the IPC compression to ask for
 * @param warmup unmeasured runs first
 * @param runs measured runs
 * @param path the for_path descriptor {@code [namespace, table]} of the table read or written
 * @param ticket a ticket to DoGet instead of planning the table's endpoints, or empty
 * @param sql the query of sql mode, or empty for {@code SELECT * FROM namespace.table}
 * @param load whether get mode first puts the table it then reads
 * @param tls TLS settings, when the URI says grpc+tls
 * @param auth credentials, or {@link Auth#NONE}
 * @param jsonOut where to write the JSON report, or empty
 * @param progress whether to draw a progress bar on a terminal
 * @param label a free-form name for the run in reports, or empty
 */
public record BenchOptions(
    URI uri,
    Mode mode,
    int streams,
    int threads,
    long recordsPerStream,
    int recordsPerBatch,
    BenchmarkData.Shape shape,
    Compression compression,
    int warmup,
    int runs,
    List<String> path,
    Optional<byte[]> ticket,
    Optional<String> sql,
    boolean load,
    Tls tls,
    Auth auth,
    Optional<Path> jsonOut,
    boolean progress,
    String label,
    Endpoints endpoints) {

  /** What a run does with the server. */
  public enum Mode {
    /** DoGet: read the table (every endpoint of its FlightInfo) or the given ticket. */
    GET,
    /** DoPut: write each stream to a new table. */
    PUT,
    /** Flight SQL CommandStatementQuery, then DoGet of its endpoints. */
    SQL
  }

  /** How one get or sql stream reads its FlightInfo's endpoints. */
  public enum Endpoints {
    /** One after another, all from the server the stream asked. */
    SEQUENTIAL,
    /**
     * All at once, each from its own location (a cluster node) when it names one: how a client
     * reads a big table from every node of a cluster.
     */
    PARALLEL
  }

  /** IPC body compression the client asks for. */
  public enum Compression {
    NONE,
    LZ4,
    ZSTD
  }

  /**
   * TLS settings.
   *
   * @param trustedCertificates PEM roots to trust instead of the JVM's, or empty
   * @param skipVerify whether to accept any server certificate (testing only)
   * @param overrideHostname the name to verify the server's certificate against, or empty
   */
  public record Tls(
      Optional<Path> trustedCertificates, boolean skipVerify, Optional<String> overrideHostname) {
    public static final Tls DEFAULT = new Tls(Optional.empty(), false, Optional.empty());

    public Tls {
      requireNonNull(trustedCertificates, "trustedCertificates is null");
      requireNonNull(overrideHostname, "overrideHostname is null");
    }
  }

  /**
   * Credentials: a user and password for Flight's basic-token handshake, or a bearer token sent as
   * the authorization header of every call.
   */
  public record Auth(Optional<String> user, Optional<String> password, Optional<String> token) {
    public static final Auth NONE = new Auth(Optional.empty(), Optional.empty(), Optional.empty());

    public Auth {
      requireNonNull(user, "user is null");
      requireNonNull(password, "password is null");
      requireNonNull(token, "token is null");
      if (user.isPresent() != password.isPresent()) {
        throw new IllegalArgumentException("--user and --password go together");
      }
      if (token.isPresent() && user.isPresent()) {
        throw new IllegalArgumentException("Give --token or --user/--password, not both");
      }
    }

    /** Secrets redacted. */
    @Override
    public String toString() {
      return "Auth{user=" + user.orElse("-") + ", password=***, token=***}";
    }
  }

  public static final String DEFAULT_URI = "grpc://127.0.0.1:8815";
  public static final int DEFAULT_STREAMS = 4;
  public static final int DEFAULT_THREADS = 1;
  public static final long DEFAULT_RECORDS_PER_STREAM = 10_000_000;
  public static final int DEFAULT_RECORDS_PER_BATCH = 65_536;
  public static final int DEFAULT_WARMUP = 1;
  public static final int DEFAULT_RUNS = 5;
  public static final List<String> DEFAULT_PATH = List.of("bench", "table");

  public BenchOptions {
    requireNonNull(uri, "uri is null");
    requireNonNull(mode, "mode is null");
    requireNonNull(shape, "shape is null");
    requireNonNull(compression, "compression is null");
    requireNonNull(ticket, "ticket is null");
    requireNonNull(sql, "sql is null");
    requireNonNull(tls, "tls is null");
    requireNonNull(auth, "auth is null");
    requireNonNull(jsonOut, "jsonOut is null");
    requireNonNull(label, "label is null");
    requireNonNull(endpoints, "endpoints is null");
    path = List.copyOf(path);
    String scheme = String.valueOf(uri.getScheme());
    if (!scheme.equals("grpc") && !scheme.equals("grpc+tcp") && !scheme.equals("grpc+tls")) {
      throw new IllegalArgumentException(
          "--uri must be grpc://host:port or grpc+tls://host:port, not " + uri);
    }
    if (uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("--uri needs a host and a port: " + uri);
    }
    positive("--streams", streams);
    positive("--threads", threads);
    positive("--records-per-stream", recordsPerStream);
    positive("--records-per-batch", recordsPerBatch);
    positive("--runs", runs);
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup must be 0 or more, not " + warmup);
    }
    if (path.isEmpty()) {
      throw new IllegalArgumentException("--path needs at least one element");
    }
    if (ticket.isPresent() && mode != Mode.GET) {
      throw new IllegalArgumentException("--ticket only applies to --mode get");
    }
    if (sql.isPresent() && mode != Mode.SQL) {
      throw new IllegalArgumentException("--sql only applies to --mode sql");
    }
    if (endpoints == Endpoints.PARALLEL && (mode == Mode.PUT || ticket.isPresent())) {
      throw new IllegalArgumentException(
          "--endpoints parallel applies to --mode get (without --ticket) and sql");
    }
  }

  private static void positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, not " + value);
    }
  }

  /** Whether the URI asks for TLS. */
  public boolean usesTls() {
    return uri.getScheme().equals("grpc+tls");
  }

  /** The query sql mode runs. */
  public String query() {
    return sql.orElse("SELECT * FROM " + String.join(".", path));
  }

  /** Rows a run moves: streams x records per stream. */
  public long rowsPerRun() {
    return streams * recordsPerStream;
  }

  /** The settings that define what is measured, for reports (secrets left out). */
  public Map<String, Object> describe() {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("uri", uri.toString());
    config.put("mode", name(mode));
    config.put("streams", streams);
    config.put("threads", threads);
    config.put("records_per_stream", recordsPerStream);
    config.put("records_per_batch", recordsPerBatch);
    config.put("schema", name(shape));
    config.put("compression", name(compression));
    config.put("warmup", warmup);
    config.put("runs", runs);
    config.put("path", path);
    config.put("ticket", ticket.isPresent());
    if (mode == Mode.SQL) {
      config.put("sql", query());
    }
    config.put("load", load);
    config.put("tls", usesTls());
    config.put(
        "auth", auth.token().isPresent() ? "token" : auth.user().isPresent() ? "basic" : "none");
    config.put("label", label);
    config.put("endpoints", name(endpoints));
    return config;
  }

  /** An enum constant as it is written on the command line. */
  static String name(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  /** The command line's options, for {@code --help}. */
  public static String usage() {
    return """
        Usage: quiver-bench [run] [options]
               quiver-bench compare BASELINE.json CURRENT.json
               quiver-bench trend OUT.html RESULT.json...

        Measures a Flight server's DoGet, DoPut or Flight SQL throughput and per-batch latency.

          --uri URI                 grpc://host:port or grpc+tls://host:port (default %s)
          --mode get|put|sql        what to measure (default get)
          --streams N               streams per run (default %d)
          --threads N               streams in flight at once (default %d)
          --records-per-stream N    rows per stream (default %d)
          --records-per-batch N     rows per record batch (default %d)
          --schema int64x4|mixed    4 x int64, or int64 + string + timestamp + decimal with
                                    nulls (default int64x4)
          --compression none|lz4|zstd   IPC body compression (default none)
          --warmup N                unmeasured runs (default %d)
          --runs N                  measured runs (default %d)
          --path NS/TABLE           the for_path descriptor (default bench/table); put
                                    writes NS/TABLE_<run>_<stream>
          --ticket TEXT             DoGet this ticket (UTF-8; base64:... for bytes) instead
          --sql QUERY               sql mode's query (default SELECT * FROM NS.TABLE)
          --no-load                 get/sql: read the table as it is; do not put it first
          --endpoints sequential|parallel
                                    get/sql: read a stream's endpoints one after another from
                                    --uri, or all at once, each from its own location (a
                                    cluster node) (default sequential)
          --tls-roots FILE          PEM certificates to trust (grpc+tls)
          --tls-skip-verify         accept any server certificate (testing only)
          --tls-override-hostname H verify the certificate against H
          --user U --password P     basic authentication (handshake, then bearer token)
          --token T                 bearer token for every call
          --json FILE               write the results as JSON to FILE
          --label TEXT              a name for this run in reports
          --no-progress             no progress bar
          --help                    this text
        """
        .formatted(
            DEFAULT_URI,
            DEFAULT_STREAMS,
            DEFAULT_THREADS,
            DEFAULT_RECORDS_PER_STREAM,
            DEFAULT_RECORDS_PER_BATCH,
            DEFAULT_WARMUP,
            DEFAULT_RUNS);
  }

  /**
   * Parses {@code args} ({@code --key value}, {@code --key=value} or a bare flag).
   *
   * @throws IllegalArgumentException naming the offending option
   */
  public static BenchOptions parse(List<String> args) {
    Map<String, String> values = new LinkedHashMap<>();
    List<String> flags = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("Unexpected argument " + arg + " (see --help)");
      }
      String key = arg.substring(2);
      String value = null;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      }
      if (FLAGS.contains(key)) {
        if (value != null) {
          throw new IllegalArgumentException("--" + key + " takes no value");
        }
        flags.add(key);
        continue;
      }
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("Unknown option --" + key + " (see --help)");
      }
      if (value == null) {
        if (i + 1 == args.size()) {
          throw new IllegalArgumentException("--" + key + " needs a value");
        }
        value = args.get(++i);
      }
      if (values.put(key, value) != null) {
        throw new IllegalArgumentException("--" + key + " given twice");
      }
    }
    return new BenchOptions(
        URI.create(values.getOrDefault("uri", DEFAULT_URI)),
        parseEnum(Mode.class, "mode", values.getOrDefault("mode", "get")),
        intValue(values, "streams", DEFAULT_STREAMS),
        intValue(values, "threads", DEFAULT_THREADS),
        longValue(values, "records-per-stream", DEFAULT_RECORDS_PER_STREAM),
        intValue(values, "records-per-batch", DEFAULT_RECORDS_PER_BATCH),
        parseEnum(BenchmarkData.Shape.class, "schema", values.getOrDefault("schema", "int64x4")),
        parseEnum(Compression.class, "compression", values.getOrDefault("compression", "none")),
        intValue(values, "warmup", DEFAULT_WARMUP),
        intValue(values, "runs", DEFAULT_RUNS),
        values.containsKey("path") ? List.of(values.get("path").split("/")) : DEFAULT_PATH,
        Optional.ofNullable(values.get("ticket")).map(BenchOptions::ticketBytes),
        Optional.ofNullable(values.get("sql")),
        !flags.contains("no-load"),
        new Tls(
            Optional.ofNullable(values.get("tls-roots")).map(Path::of),
            flags.contains("tls-skip-verify"),
            Optional.ofNullable(values.get("tls-override-hostname"))),
        new Auth(
            Optional.ofNullable(values.get("user")),
            Optional.ofNullable(values.get("password")),
            Optional.ofNullable(values.get("token"))),
        Optional.ofNullable(values.get("json")).map(Path::of),
        !flags.contains("no-progress"),
        values.getOrDefault("label", ""),
        parseEnum(Endpoints.class, "endpoints", values.getOrDefault("endpoints", "sequential")));
  }

  private static final List<String> FLAGS = List.of("no-load", "tls-skip-verify", "no-progress");
  private static final List<String> KEYS =
      List.of(
          "uri",
          "mode",
          "streams",
          "threads",
          "records-per-stream",
          "records-per-batch",
          "schema",
          "compression",
          "warmup",
          "runs",
          "path",
          "ticket",
          "sql",
          "tls-roots",
          "tls-override-hostname",
          "user",
          "password",
          "token",
          "json",
          "label",
          "endpoints");

  private static byte[] ticketBytes(String text) {
    if (text.startsWith("base64:")) {
      return java.util.Base64.getDecoder().decode(text.substring("base64:".length()));
    }
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static int intValue(Map<String, String> values, String key, int fallback) {
    long value = longValue(values, key, fallback);
    if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
      throw new IllegalArgumentException("--" + key + " is too large: " + value);
    }
    return (int) value;
  }

  private static long longValue(Map<String, String> values, String key, long fallback) {
    String text = values.get(key);
    if (text == null) {
      return fallback;
    }
    try {
      return Long.parseLong(text.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + " must be a whole number, not " + text);
    }
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> type, String key, String text) {
    for (E value : type.getEnumConstants()) {
      if (name(value).equals(text.toLowerCase(Locale.ROOT))) {
        return value;
      }
    }
    List<String> names = new ArrayList<>();
    for (E value : type.getEnumConstants()) {
      names.add(name(value));
    }
    throw new IllegalArgumentException(
        "--" + key + " must be one of " + String.join(", ", names) + ", not " + text);
  }
}
