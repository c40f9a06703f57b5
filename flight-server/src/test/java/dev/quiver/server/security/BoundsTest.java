package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.server.QuiverServer;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names never leave the data folder, and every size and count a client controls is bounded by a
 * {@code limits.*} key that the refusal names; the server keeps serving after each refusal.
 */
@ExtendWith(ArrowAllocatorExtension.class)
class BoundsTest {
  @TempDir Path dir;
  private QuiverServer server;
  private FlightClient client;
  private BufferAllocator allocator;

  @BeforeEach
  void start(BufferAllocator allocator) throws Exception {
    this.allocator = allocator;
    server =
        SecureServers.start(
            dir,
            Map.of(
                "limits.max-message-size", "64KB",
                "limits.max-put-batches", "3",
                "limits.max-columns", "4",
                "limits.max-ticket-size", "1KB",
                "limits.max-action-body", "1KB"));
    client = FlightClient.builder(allocator, server.location()).build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.close();
  }

  /** Puts {@code batches} batches of {@code rows} rows of {@code columns} int64 columns. */
  private void put(List<String> path, int columns, int batches, int rows) throws Exception {
    List<Field> fields = new ArrayList<>();
    for (int c = 0; c < columns; c++) {
      fields.add(Field.nullable("c" + c, new ArrowType.Int(64, true)));
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(fields), allocator)) {
      SyncPutListener listener = new SyncPutListener();
      FlightClient.ClientStreamListener stream =
          client.startPut(FlightDescriptor.path(path), root, listener);
      for (int b = 0; b < batches; b++) {
        for (FieldVector vector : root.getFieldVectors()) {
          for (int i = 0; i < rows; i++) {
            ((BigIntVector) vector).setSafe(i, i);
          }
        }
        root.setRowCount(rows);
        stream.putNext();
      }
      stream.completed();
      try {
        stream.getResult();
      } finally {
        listener.close();
      }
    }
  }

  private static void assertRefused(
      ThrowingCallable call, FlightStatusCode code, String... messageParts) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            FlightRuntimeException.class, e -> assertThat(e.status().code()).isEqualTo(code))
        .satisfies(e -> assertThat(e.getMessage()).contains(messageParts));
  }

  private long rows(String ns, String table) throws Exception {
    return SecureServers.rows(client, client.getInfo(FlightDescriptor.path(ns, table)));
  }

  @Test
  void namesThatCouldLeaveTheDataFolderAreRefused() throws Exception {
    Path data = dir.resolve("data");
    List<String> before;
    try (Stream<Path> files = Files.walk(dir)) {
      before = files.map(Path::toString).sorted().toList();
    }
    List<List<String>> paths =
        List.of(
            List.of("..", "escape"),
            List.of("ns", ".."),
            List.of("a/b", "c"),
            List.of("ns", "..%2Fx"),
            List.of("/etc", "passwd"),
            List.of(data.getParent().toString(), "t"),
            List.of("ns", "t\u0000"),
            List.of("ns", "t\n"),
            List.of("ns", "\uff54"), // fullwidth t
            List.of("ns", "t\u202e"), // right-to-left override
            List.of("caf\u00e9", "t"),
            List.of("ns\\..\\x", "t"),
            List.of("", "t"),
            List.of("ns", "x".repeat(129)),
            List.of("ns", "t", "extra"));
    for (List<String> path : paths) {
      assertRefused(() -> put(path, 1, 1, 1), FlightStatusCode.INVALID_ARGUMENT, "");
      assertRefused(
          () -> client.getInfo(FlightDescriptor.path(path)), FlightStatusCode.INVALID_ARGUMENT, "");
    }
    assertRefused(
        () ->
            client
                .listFlights(new Criteria("../ns".getBytes(StandardCharsets.UTF_8)))
                .forEach(f -> {}),
        FlightStatusCode.INVALID_ARGUMENT,
        "ListFlights criteria must be a namespace name");
    try (Stream<Path> files = Files.walk(dir)) {
      assertThat(files.map(Path::toString).sorted().toList())
          .as("no file or folder appeared anywhere")
          .isEqualTo(before);
    }
    put(List.of("ns", "t"), 1, 1, 1);
    assertThat(rows("ns", "t")).isEqualTo(1);
  }

  @Test
  void aBatchOverTheMessageSizeIsResourceExhausted() throws Exception {
    assertRefused(
        () -> put(List.of("big", "t"), 1, 1, 20_000), // 160 KB of int64s in one message
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "exceeds maximum size 65536");
    put(List.of("big", "t"), 1, 1, 1_000);
    assertThat(rows("big", "t")).isEqualTo(1_000);
  }

  @Test
  void aPutWithTooManyBatchesCommitsNothing() throws Exception {
    assertRefused(
        () -> put(List.of("many", "t"), 1, 4, 10),
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "more than limits.max-put-batches (3)");
    assertRefused(
        () -> client.getInfo(FlightDescriptor.path("many", "t")), FlightStatusCode.NOT_FOUND, "");
    put(List.of("many", "t"), 1, 3, 10);
    assertThat(rows("many", "t")).isEqualTo(30);
  }

  @Test
  void aSchemaWiderThanTheLimitIsRefused() throws Exception {
    assertRefused(
        () -> put(List.of("wide", "t"), 5, 1, 1),
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "5 columns, more than limits.max-columns (4)");
    put(List.of("wide", "t"), 4, 1, 1);
    assertThat(rows("wide", "t")).isEqualTo(1);
  }

  @Test
  void oversizedTicketsAndActionBodiesAreRefused() {
    assertRefused(
        () -> {
          try (FlightStream stream = client.getStream(new Ticket(new byte[2000]))) {
            stream.next();
          }
        },
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "The ticket is 2000 bytes, more than limits.max-ticket-size (1024)");
    assertRefused(
        () -> client.doAction(new Action("list-snapshots", new byte[2000])).hasNext(),
        FlightStatusCode.RESOURCE_EXHAUSTED,
        "The action body is 2000 bytes, more than limits.max-action-body (1024)");
    assertRefused(
        () -> {
          try (FlightStream stream = client.getStream(new Ticket(new byte[100]))) {
            stream.next();
          }
        },
        FlightStatusCode.INVALID_ARGUMENT,
        "ticket");
  }
}
