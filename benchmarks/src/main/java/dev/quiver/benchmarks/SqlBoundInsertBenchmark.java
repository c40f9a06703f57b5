package dev.quiver.benchmarks;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionClosePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementRequest;
import org.apache.arrow.flight.sql.impl.FlightSql.ActionCreatePreparedStatementResult;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.DoPutUpdateResult;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A prepared {@code INSERT INTO bench.target VALUES (?, ?, ?, ?, ?)} bound with many parameter
 * rows, against a real, in-process {@link QuiverServer} on loopback: the path of the Java ADBC
 * driver's bulk ingest and of JDBC's executeBatch. Each operation is one DoPut and one commit.
 *
 * <p>flightSql sends {@code batches} x {@code rowsPerBatch} rows of the table's 5 columns (3 x
 * int64, float64, short string), built once in setup, as the batches of one
 * CommandPreparedStatementUpdate DoPut, as an ADBC client binding a stream does; flightSqlCast
 * binds int32 for the int64 columns, so the server casts each batch in DuckDB. jdbcExecuteBatch
 * runs {@code jdbcRows} x {@code addBatch()} and one {@code executeBatch()} through the Flight SQL
 * JDBC driver, whose row-by-row setters are part of what it measures. doPut, the control, sends
 * flightSql's batches as a plain DoPut to the table. {@code :rows} is rows/s. Client, server,
 * DuckDB and the Parquet writer share the JVM and the cores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class SqlBoundInsertBenchmark {
  private static final String INSERT = "INSERT INTO bench.target VALUES (?, ?, ?, ?, ?)";

  /** Parameter batches per flightSql DoPut. */
  @Param("16")
  public int batches;

  /** Rows per parameter batch. */
  @Param("65536")
  public int rowsPerBatch;

  /** Rows per jdbcExecuteBatch call. */
  @Param("100000")
  public int jdbcRows;

  private BufferAllocator allocator;
  private Path dataDir;
  private QuiverServer server;
  private FlightClient flight;
  private Connection connection;
  private PreparedStatement jdbcInsert;
  private ByteString handle;
  private VectorSchemaRoot parameters;
  private VectorSchemaRoot rows;
  private VectorSchemaRoot castParameters;
  private long batchBytes;

  /** Starts the server in a temporary folder, creates the table and builds the parameters. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    try {
      allocator = new RootAllocator(Long.MAX_VALUE);
      dataDir = Files.createTempDirectory("quiver-bound-insert-bench");
      server =
          QuiverServer.start(
              ServerConfig.load(
                  Map.of(),
                  Map.of(),
                  Map.of(
                      "flight.port", "0",
                      "storage.data-dir", dataDir.toString(),
                      "memory.total", "2GB")));
      connection =
          DriverManager.getConnection(
              "jdbc:arrow-flight-sql://127.0.0.1:" + server.port() + "/?useEncryption=false");
      try (Statement statement = connection.createStatement()) {
        statement.executeUpdate(
            "CREATE TABLE bench.target (id BIGINT, twice BIGINT, bucket BIGINT, third DOUBLE,"
                + " name VARCHAR)");
      }
      jdbcInsert = connection.prepareStatement(INSERT);
      flight = FlightClient.builder(allocator, server.location()).build();
      ActionCreatePreparedStatementResult prepared = prepare(flight);
      handle = prepared.getPreparedStatementHandle();
      parameters = VectorSchemaRoot.create(parameterSchema(), allocator);
      fill(parameters, rowsPerBatch);
      rows = VectorSchemaRoot.create(TABLE_SCHEMA, allocator);
      fill(rows, rowsPerBatch);
      castParameters = VectorSchemaRoot.create(INT32_SCHEMA, allocator);
      fillInt32(castParameters, rowsPerBatch);
      batchBytes = bytesOf(parameters);
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** bench.target's columns, as a DoPut to it sends them. */
  private static final Schema TABLE_SCHEMA =
      new Schema(
          List.of(
              Field.nullable("id", new ArrowType.Int(64, true)),
              Field.nullable("twice", new ArrowType.Int(64, true)),
              Field.nullable("bucket", new ArrowType.Int(64, true)),
              Field.nullable("third", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
              Field.nullable("name", ArrowType.Utf8.INSTANCE)));

  /** Parameters a client binds with its own types: int32 for the int64 columns. */
  private static final Schema INT32_SCHEMA =
      new Schema(
          List.of(
              Field.nullable("a", new ArrowType.Int(32, true)),
              Field.nullable("b", new ArrowType.Int(32, true)),
              Field.nullable("c", new ArrowType.Int(32, true)),
              Field.nullable("d", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
              Field.nullable("e", ArrowType.Utf8.INSTANCE)));

  /** The table's column types, as the prepared statement's parameter schema gives them. */
  private static Schema parameterSchema() {
    ArrowType int64 = new ArrowType.Int(64, true);
    return new Schema(
        List.of(
            Field.nullable("parameter_1", int64),
            Field.nullable("parameter_2", int64),
            Field.nullable("parameter_3", int64),
            Field.nullable(
                "parameter_4", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
            Field.nullable("parameter_5", ArrowType.Utf8.INSTANCE)));
  }

  private static void fill(VectorSchemaRoot root, int rows) {
    BigIntVector id = (BigIntVector) root.getVector(0);
    BigIntVector twice = (BigIntVector) root.getVector(1);
    BigIntVector bucket = (BigIntVector) root.getVector(2);
    Float8Vector third = (Float8Vector) root.getVector(3);
    VarCharVector name = (VarCharVector) root.getVector(4);
    root.allocateNew();
    for (int i = 0; i < rows; i++) {
      id.setSafe(i, i);
      twice.setSafe(i, i * 2L);
      bucket.setSafe(i, i % 1000);
      third.setSafe(i, i / 3.0);
      name.setSafe(i, ("name-" + (i % 100)).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(rows);
  }

  private static void fillInt32(VectorSchemaRoot root, int rows) {
    IntVector id = (IntVector) root.getVector(0);
    IntVector twice = (IntVector) root.getVector(1);
    IntVector bucket = (IntVector) root.getVector(2);
    Float8Vector third = (Float8Vector) root.getVector(3);
    VarCharVector name = (VarCharVector) root.getVector(4);
    root.allocateNew();
    for (int i = 0; i < rows; i++) {
      id.setSafe(i, i);
      twice.setSafe(i, i * 2);
      bucket.setSafe(i, i % 1000);
      third.setSafe(i, i / 3.0);
      name.setSafe(i, ("name-" + (i % 100)).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(rows);
  }

  /** One DoPut of {@code batches} parameter batches of the table's types: one commit. */
  @Benchmark
  public long flightSql(Throughput counters) throws Exception {
    return putParameters(parameters, counters);
  }

  /** As flightSql, with int32 parameters for the int64 columns: DuckDB casts each batch. */
  @Benchmark
  public long flightSqlCast(Throughput counters) throws Exception {
    return putParameters(castParameters, counters);
  }

  private long putParameters(VectorSchemaRoot bound, Throughput counters) throws Exception {
    FlightDescriptor descriptor =
        FlightDescriptor.command(
            Any.pack(
                    CommandPreparedStatementUpdate.newBuilder()
                        .setPreparedStatementHandle(handle)
                        .build())
                .toByteArray());
    long count;
    try (SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = flight.startPut(descriptor, bound, listener);
      for (int b = 0; b < batches; b++) {
        stream.putNext();
      }
      stream.completed();
      listener.getResult();
      try (PutResult result = listener.read()) {
        ArrowBuf metadata = result.getApplicationMetadata();
        byte[] bytes = new byte[(int) metadata.readableBytes()];
        metadata.getBytes(0, bytes);
        count = DoPutUpdateResult.parseFrom(bytes).getRecordCount();
      }
    }
    long expected = (long) batches * rowsPerBatch;
    if (count != expected) {
      throw new IllegalStateException("Inserted " + count + " rows, expected " + expected);
    }
    counters.add(count, batches * bytesOf(bound));
    return count;
  }

  private static long bytesOf(VectorSchemaRoot root) {
    long bytes = 0;
    for (FieldVector vector : root.getFieldVectors()) {
      bytes += vector.getBufferSize();
    }
    return bytes;
  }

  /** The control: the same batches as flightSql in a plain DoPut to the table. */
  @Benchmark
  public long doPut(Throughput counters) throws Exception {
    try (SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream =
          flight.startPut(FlightDescriptor.path("bench", "target"), rows, listener);
      for (int b = 0; b < batches; b++) {
        stream.putNext();
      }
      stream.completed();
      listener.getResult();
      try (PutResult ignored = listener.read()) {
        // The receipt; the commit has happened once it arrives.
      }
    }
    long count = (long) batches * rowsPerBatch;
    counters.add(count, batches * batchBytes);
    return count;
  }

  /** {@code jdbcRows} x addBatch, then one executeBatch: one commit. */
  @Benchmark
  public long jdbcExecuteBatch(Throughput counters) throws Exception {
    for (int i = 0; i < jdbcRows; i++) {
      jdbcInsert.setLong(1, i);
      jdbcInsert.setLong(2, i * 2L);
      jdbcInsert.setLong(3, i % 1000);
      jdbcInsert.setDouble(4, i / 3.0);
      jdbcInsert.setString(5, "name-" + (i % 100));
      jdbcInsert.addBatch();
    }
    long count = 0;
    for (long updated : jdbcInsert.executeLargeBatch()) {
      count += updated;
    }
    if (count != jdbcRows) {
      throw new IllegalStateException("Inserted " + count + " rows, expected " + jdbcRows);
    }
    counters.add(count, 0);
    return count;
  }

  private static ActionCreatePreparedStatementResult prepare(FlightClient flight)
      throws IOException {
    Action action =
        new Action(
            "CreatePreparedStatement",
            Any.pack(ActionCreatePreparedStatementRequest.newBuilder().setQuery(INSERT).build())
                .toByteArray());
    List<Result> results = new ArrayList<>();
    flight.doAction(action).forEachRemaining(results::add);
    return Any.parseFrom(results.get(0).getBody())
        .unpack(ActionCreatePreparedStatementResult.class);
  }

  /** Closes the statement, clients and server and deletes the data folder. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (flight != null && handle != null) {
      Action close =
          new Action(
              "ClosePreparedStatement",
              Any.pack(
                      ActionClosePreparedStatementRequest.newBuilder()
                          .setPreparedStatementHandle(handle)
                          .build())
                  .toByteArray());
      flight.doAction(close).forEachRemaining(r -> {});
    }
    AutoCloseables.close(
        jdbcInsert, connection, parameters, rows, castParameters, flight, server, allocator);
    if (dataDir != null) {
      try (Stream<Path> paths = Files.walk(dataDir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      } catch (IOException e) {
        throw new IOException("Cannot delete " + dataDir, e);
      }
    }
  }
}
