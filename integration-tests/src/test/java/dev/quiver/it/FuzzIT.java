package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.quiver.client.QuiverActions;
import dev.quiver.proto.v1.Comparison;
import dev.quiver.proto.v1.Filter;
import dev.quiver.proto.v1.Literal;
import dev.quiver.proto.v1.Predicate;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.IpcMessages;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOptions;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;
import org.apache.arrow.flight.sql.impl.FlightSql;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile input thrown at the real server, in two phases. First, thousands of random and mutated
 * tickets, commands (quiver.v1 ScanCommand, Flight SQL commands packed in Any, raw bytes), path
 * descriptors, action types and bodies and SQL text: every call must end with a status within its
 * deadline (never a hang), none with INTERNAL or UNKNOWN (a bad input is the client's error, and
 * the status must say so), the server must stay up, and its Arrow memory must return to zero.
 * Second, malformed Arrow IPC streams (raw gRPC DoPut frames, mutated, some cancelled by the
 * client): the same holds, every call with a named status (none UNKNOWN, none hung) and the memory,
 * transport memory included, back to zero after each input (a leak names the input and its frames).
 *
 * <p>Seeded and reproducible: {@code -Dquiver.fuzz.seed=N} replays a run (the seed is printed),
 * {@code -Dquiver.fuzz.inputs=N} and {@code -Dquiver.fuzz.ipc-inputs=N} try more than the CI's
 * {@link #INPUTS} and {@link #IPC_INPUTS}, {@code -Dquiver.fuzz.kinds=0,6} picks the first phase's
 * kinds of input (6, raw DoPut, is off by default).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class FuzzIT {
  static final int INPUTS = Integer.getInteger("quiver.fuzz.inputs", 3000);
  static final int IPC_INPUTS = Integer.getInteger("quiver.fuzz.ipc-inputs", 300);
  private static final long SEED = Long.getLong("quiver.fuzz.seed", System.nanoTime());
  private static final long DEADLINE_SECONDS = 20;

  /** Which kinds of input to try (0-6, see the switch below); all by default. */
  private static final List<Integer> KINDS =
      java.util.Arrays.stream(System.getProperty("quiver.fuzz.kinds", "0,1,2,3,4,5").split(","))
          .map(String::trim)
          .map(Integer::valueOf)
          .toList();

  private static final FlightDescriptor TABLE = FlightDescriptor.path("fuzz", "t");
  private static final List<String> ACTIONS =
      List.of(
          QuiverActions.DROP_TABLE,
          QuiverActions.LIST_SNAPSHOTS,
          QuiverActions.SERVER_INFO,
          QuiverActions.MEMORY_REPORT,
          QuiverActions.REMOVE_ORPHAN_FILES,
          "CancelFlightInfo",
          "RenewFlightEndpoint",
          "CreatePreparedStatement",
          "ClosePreparedStatement",
          "BeginTransaction",
          "CancelQuery",
          "");
  private static final List<String> SQL =
      List.of(
          "SELECT * FROM fuzz.t",
          "SELECT id, name FROM fuzz.t WHERE id > 10 ORDER BY id LIMIT 5",
          "SELECT count(*), sum(amount) FROM fuzz.t GROUP BY name",
          "INSERT INTO fuzz.t VALUES (1, 'x', 2.5)",
          "CREATE TABLE fuzz.s (a BIGINT)",
          "DROP TABLE IF EXISTS fuzz.s",
          "SELECT * FROM read_parquet('/etc/passwd')",
          "COPY fuzz.t TO '/tmp/x.parquet'",
          "ATTACH 'x.db'",
          "SELECT repeat('x', 100000000)",
          "PRAGMA version");

  private final Map<String, Integer> outcomes = new TreeMap<>();
  private final List<String> broke = new ArrayList<>();
  private final List<String> leaks = new ArrayList<>();

  @Test
  void hostileInputGetsAStatusNeverAHangAndLeaksNothing(BufferAllocator allocator)
      throws Exception {
    System.out.printf("FuzzIT: %d inputs, seed %d%n", INPUTS, SEED);
    Random random = new Random(SEED);
    try (QuiverServerProcess server = QuiverServerProcess.start();
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightTables.put(client, allocator, TABLE, 0, 5000);
      byte[] validTicket = client.getInfo(TABLE).getEndpoints().get(0).getTicket().getBytes();
      List<byte[]> ipc = validIpcMessages(allocator);
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      FlightServiceGrpc.FlightServiceStub raw = FlightServiceGrpc.newStub(channel);
      try {
        for (int i = 0; i < INPUTS; i++) {
          int kind = KINDS.get(random.nextInt(KINDS.size()));
          String label = "input " + i + " kind " + kind;
          switch (kind) {
            case 0 -> call(label, () -> drain(client, new Ticket(mutate(random, validTicket))));
            case 1 -> call(label, () -> client.getInfo(command(random), options()));
            case 2 -> call(label, () -> client.getSchema(path(random), options()));
            case 3 -> call(label, () -> action(client, random));
            case 4 -> call(label, () -> sql(client, random));
            case 5 -> call(label, () -> client.getInfo(path(random), options()));
            default -> call(label, () -> rawPut(raw, random, ipc, new StringBuilder()));
          }
          assertThat(server.isAlive()).as("server alive after %s", label).isTrue();
        }
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(server.isAlive()).isTrue();
      assertThat(
              FlightTables.action(client, QuiverActions.SERVER_INFO, Map.of()).get("name").asText())
          .isEqualTo("quiver");
      System.out.printf(
          "FuzzIT: %d inputs tried, seed %d, outcomes %s, broke %d: %s%n",
          INPUTS, SEED, outcomes, broke.size(), broke);
      JsonNode idle = FlightTables.awaitIdle(client, Duration.ofSeconds(30));
      assertThat(idle.get("allocated").asLong())
          .as("Arrow memory left allocated after the fuzz run: %s", idle)
          .isZero();
      assertThat(idle.get("calls")).as("calls left open after the fuzz run").isEmpty();
      assertThat(broke)
          .as("calls that hung or answered INTERNAL/UNKNOWN (seed %d)", SEED)
          .isEmpty();

      // Malformed IPC through raw DoPut frames: decoded by Flight before any handler runs, so
      // MalformedMessages must answer them.
      outcomes.clear();
      ManagedChannel ipcChannel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      FlightServiceGrpc.FlightServiceStub ipcStub = FlightServiceGrpc.newStub(ipcChannel);
      try {
        long leaked = 0;
        for (int i = 0; i < IPC_INPUTS; i++) {
          String label = "ipc input " + i;
          StringBuilder sent = new StringBuilder();
          call(label, () -> rawPut(ipcStub, random, ipc, sent));
          assertThat(server.isAlive()).as("server alive after %s", label).isTrue();
          // Each input's memory is checked on its own, so that a leak names the input that made it.
          JsonNode after = FlightTables.awaitIdle(client, leaked, Duration.ofSeconds(10));
          long left = after.get("allocated").asLong();
          if (left > leaked) {
            leaks.add(label + " left " + (left - leaked) + " bytes; it sent " + sent);
            leaked = left;
          }
        }
      } finally {
        ipcChannel.shutdownNow();
        ipcChannel.awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(
              FlightTables.action(client, QuiverActions.SERVER_INFO, Map.of()).get("name").asText())
          .isEqualTo("quiver");
      System.out.printf(
          "FuzzIT: %d malformed IPC DoPuts, seed %d, outcomes %s, broke %d: %s%n",
          IPC_INPUTS, SEED, outcomes, broke.size(), broke.stream().limit(20).toList());
      JsonNode afterIpc = FlightTables.awaitIdle(client, Duration.ofSeconds(30));
      assertThat(leaks)
          .as("malformed IPC DoPuts that left Arrow memory allocated (seed %d)", SEED)
          .isEmpty();
      assertThat(afterIpc.get("allocated").asLong())
          .as("Arrow memory left allocated after the malformed IPC DoPuts: %s", afterIpc)
          .isZero();
      assertThat(afterIpc.get("transport_allocated").asLong())
          .as("transport memory left after the malformed IPC DoPuts: %s", afterIpc)
          .isZero();
      assertThat(afterIpc.get("calls")).as("calls left open after the IPC DoPuts").isEmpty();
      assertThat(broke)
          .as("IPC DoPuts that hung or answered INTERNAL/UNKNOWN (seed %d)", SEED)
          .isEmpty();
    }
  }

  /** Runs one hostile call and records its status; a hang, INTERNAL or UNKNOWN is a break. */
  private void call(String label, ThrowingRunnable body) {
    String outcome;
    try {
      body.run();
      outcome = "OK";
    } catch (FlightRuntimeException e) {
      outcome = e.status().code().name();
      if (e.status().code() == FlightStatusCode.INTERNAL
          || e.status().code() == FlightStatusCode.UNKNOWN
          || e.status().code() == FlightStatusCode.TIMED_OUT) {
        broke.add(label + ": " + outcome + " " + abbreviate(e.getMessage()));
      }
    } catch (StatusRuntimeException e) {
      outcome = e.getStatus().getCode().name();
      if (e.getStatus().getCode() == Status.Code.INTERNAL
          || e.getStatus().getCode() == Status.Code.UNKNOWN
          || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
        broke.add(label + ": " + outcome + " " + abbreviate(e.getMessage()));
      }
    } catch (Exception e) {
      outcome = e.getClass().getSimpleName();
      broke.add(label + ": " + e);
    }
    outcomes.merge(outcome, 1, Integer::sum);
  }

  private static String abbreviate(String text) {
    return text == null || text.length() < 300 ? text : text.substring(0, 300) + "...";
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static org.apache.arrow.flight.CallOption options() {
    return CallOptions.timeout(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static void drain(FlightClient client, Ticket ticket) throws Exception {
    try (FlightStream stream = client.getStream(ticket, options())) {
      while (stream.next()) {
        // read it all
      }
    }
  }

  // --- inputs --------------------------------------------------------------------------------

  private static byte[] mutate(Random random, byte[] valid) {
    byte[] bytes;
    switch (random.nextInt(5)) {
      case 0 -> {
        bytes = new byte[random.nextInt(64)];
        random.nextBytes(bytes);
        return bytes;
      }
      case 1 -> bytes = java.util.Arrays.copyOf(valid, random.nextInt(valid.length + 1));
      case 2 -> {
        bytes = java.util.Arrays.copyOf(valid, valid.length + 1 + random.nextInt(32));
        for (int i = valid.length; i < bytes.length; i++) {
          bytes[i] = (byte) random.nextInt(256);
        }
      }
      default -> bytes = valid.clone();
    }
    int flips = bytes.length == 0 ? 0 : 1 + random.nextInt(4);
    for (int i = 0; i < flips; i++) {
      bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  private static String text(Random random) {
    String[] pieces = {
      "",
      "t",
      "fuzz",
      "..",
      "../..",
      "/",
      "a/b",
      "é",
      "\u0000",
      " ",
      "'",
      "\"",
      "%",
      "*",
      "x".repeat(200),
      "_ok",
      "1abc",
      "ns.t",
      "\uD83D\uDE00",
      "NULL"
    };
    StringBuilder out = new StringBuilder();
    int parts = random.nextInt(3);
    for (int i = 0; i <= parts; i++) {
      out.append(pieces[random.nextInt(pieces.length)]);
    }
    return out.toString();
  }

  private static FlightDescriptor path(Random random) {
    int segments = random.nextInt(4);
    List<String> path = new ArrayList<>();
    for (int i = 0; i < segments; i++) {
      path.add(random.nextInt(3) == 0 ? "fuzz" : text(random));
    }
    if (random.nextInt(4) == 0 && path.size() == 2) {
      path.set(1, "t");
    }
    return FlightDescriptor.path(path);
  }

  private static FlightDescriptor command(Random random) {
    Message message =
        switch (random.nextInt(8)) {
          case 0 -> scan(random);
          case 1 -> FlightSql.CommandStatementQuery.newBuilder().setQuery(sqlText(random)).build();
          case 2 ->
              FlightSql.CommandGetTables.newBuilder()
                  .setDbSchemaFilterPattern(text(random))
                  .setTableNameFilterPattern(text(random))
                  .setIncludeSchema(random.nextBoolean())
                  .build();
          case 3 ->
              FlightSql.CommandPreparedStatementQuery.newBuilder()
                  .setPreparedStatementHandle(ByteString.copyFrom(mutate(random, new byte[8])))
                  .build();
          case 4 -> FlightSql.CommandGetSqlInfo.newBuilder().addInfo(random.nextInt()).build();
          case 5 ->
              FlightSql.CommandGetPrimaryKeys.newBuilder()
                  .setTable(text(random))
                  .setDbSchema(text(random))
                  .build();
          case 6 ->
              FlightSql.CommandGetXdbcTypeInfo.newBuilder().setDataType(random.nextInt()).build();
          default -> FlightSql.CommandGetDbSchemas.newBuilder().build();
        };
    byte[] bytes = Any.pack(message).toByteArray();
    int how = random.nextInt(4);
    if (how == 0) {
      bytes = mutate(random, bytes);
    } else if (how == 1) {
      bytes = sqlText(random).getBytes(StandardCharsets.UTF_8);
    }
    return FlightDescriptor.command(bytes);
  }

  private static ScanCommand scan(Random random) {
    ScanCommand.Builder scan =
        ScanCommand.newBuilder()
            .setTable(
                TableRef.newBuilder()
                    .setNamespace(random.nextBoolean() ? "fuzz" : text(random))
                    .setName(random.nextBoolean() ? "t" : text(random)));
    for (int i = random.nextInt(3); i > 0; i--) {
      scan.addColumns(random.nextBoolean() ? "id" : text(random));
    }
    if (random.nextBoolean()) {
      scan.setLimit(random.nextLong());
    }
    if (random.nextInt(4) == 0) {
      scan.setSnapshotId(random.nextLong());
    }
    if (random.nextBoolean()) {
      scan.setFilter(
          Filter.newBuilder()
              .setPredicate(
                  Predicate.newBuilder()
                      .setComparison(
                          Comparison.newBuilder()
                              .setColumn(random.nextBoolean() ? "id" : text(random))
                              .setOpValue(random.nextInt(12) - 1)
                              .setValue(
                                  random.nextBoolean()
                                      ? Literal.newBuilder().setLongValue(random.nextLong()).build()
                                      : Literal.newBuilder()
                                          .setStringValue(text(random))
                                          .build()))));
    }
    return scan.build();
  }

  private static String sqlText(Random random) {
    String base = SQL.get(random.nextInt(SQL.size()));
    if (random.nextBoolean()) {
      return base;
    }
    StringBuilder out = new StringBuilder(base);
    for (int i = random.nextInt(4); i >= 0; i--) {
      int at = random.nextInt(out.length() + 1);
      if (random.nextBoolean() && out.length() > 0) {
        out.delete(at, Math.min(out.length(), at + 1 + random.nextInt(8)));
      } else {
        out.insert(at, text(random));
      }
    }
    return out.toString();
  }

  private static void action(FlightClient client, Random random) throws Exception {
    String type =
        random.nextInt(8) == 0 ? text(random) : ACTIONS.get(random.nextInt(ACTIONS.size()));
    String json =
        switch (random.nextInt(6)) {
          case 0 -> "{\"namespace\": \"fuzz\", \"table\": \"" + text(random) + "\"}";
          case 1 -> "{\"namespace\": " + random.nextLong() + ", \"table\": [1, {}]}";
          case 2 -> "{\"min_age_seconds\": " + random.nextLong() + ", \"dry_run\": true}";
          case 3 -> "{".repeat(random.nextInt(2000));
          case 4 -> "";
          default -> text(random);
        };
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    if (random.nextInt(4) == 0) {
      body = mutate(random, body);
    }
    if (type.equals(QuiverActions.DROP_TABLE)) {
      // Never drop the table the other inputs aim at (that would be a valid call).
      body = "{\"namespace\": \"fuzz\", \"table\": \"nope\"}".getBytes(StandardCharsets.UTF_8);
    }
    Iterator<Result> results = client.doAction(new Action(type, body), options());
    while (results.hasNext()) {
      results.next();
    }
  }

  private static void sql(FlightClient client, Random random) throws Exception {
    FlightInfo info =
        client.getInfo(
            FlightDescriptor.command(
                Any.pack(
                        FlightSql.CommandStatementQuery.newBuilder()
                            .setQuery(sqlText(random))
                            .build())
                    .toByteArray()),
            options());
    for (var endpoint : info.getEndpoints()) {
      byte[] ticket = endpoint.getTicket().getBytes();
      drain(client, new Ticket(random.nextInt(4) == 0 ? mutate(random, ticket) : ticket));
    }
  }

  /**
   * A schema message and two record batches of {@link FlightTables#SCHEMA}, each as the bytes of
   * its flatbuffer header followed by its body (the two parts of a FlightData).
   */
  private static List<byte[]> validIpcMessages(BufferAllocator allocator) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      for (int b = 0; b < 2; b++) {
        FlightTables.fill(root, b * 100L, 100);
        writer.writeBatch();
      }
    }
    return IpcMessages.headersAndBodies(out.toByteArray());
  }

  /** A DoPut of raw FlightData frames: a descriptor, then mutated IPC headers and bodies. */
  private static void rawPut(
      FlightServiceGrpc.FlightServiceStub raw, Random random, List<byte[]> ipc, StringBuilder sent)
      throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<Flight.FlightData> requests =
        raw.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .doPut(
                new StreamObserver<>() {
                  @Override
                  public void onNext(Flight.PutResult value) {}

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
    int frames = 1 + random.nextInt(4);
    for (int f = 0; f < frames; f++) {
      int message = Math.min(f, ipc.size() / 2 - 1);
      byte[] header = ipc.get(2 * message);
      byte[] body = ipc.get(2 * message + 1);
      boolean mutateHeader = random.nextInt(3) == 0;
      boolean mutateBody = body.length > 0 && random.nextInt(3) == 0;
      Flight.FlightData.Builder data =
          Flight.FlightData.newBuilder()
              .setDataHeader(ByteString.copyFrom(mutateHeader ? mutate(random, header) : header))
              .setDataBody(ByteString.copyFrom(mutateBody ? mutate(random, body) : body));
      if (f == 0) {
        data.setFlightDescriptor(
            Flight.FlightDescriptor.newBuilder()
                .setType(Flight.FlightDescriptor.DescriptorType.PATH)
                .addAllPath(
                    random.nextInt(3) == 0 ? List.of(text(random)) : List.of("fuzz", "ipc")));
      }
      if (random.nextInt(10) == 0) {
        data.setAppMetadata(ByteString.copyFrom(mutate(random, new byte[16])));
      }
      Flight.FlightData frame = data.build();
      sent.append(
          String.format(
              "%n  frame %d: header %s, body %d bytes%s%s%s",
              f,
              HexFormat.of().formatHex(frame.getDataHeader().toByteArray()),
              frame.getDataBody().size(),
              mutateBody ? " (mutated)" : "",
              frame.hasFlightDescriptor() ? ", descriptor" : "",
              frame.getAppMetadata().isEmpty() ? "" : ", app metadata"));
      requests.onNext(frame);
    }
    if (random.nextInt(8) == 0) {
      sent.append(String.format("%n  then cancelled"));
      requests.onError(Status.CANCELLED.withDescription("fuzz").asRuntimeException());
    } else {
      requests.onCompleted();
    }
    try {
      done.get(DEADLINE_SECONDS + 5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status) {
        if (status.getStatus().getCode() == Status.Code.CANCELLED) {
          return; // we cancelled it
        }
        throw status;
      }
      throw e;
    } catch (TimeoutException e) {
      throw new IllegalStateException("DoPut did not end within its deadline");
    }
  }
}
