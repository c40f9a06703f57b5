package dev.quiver.server.flight.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.quiver.server.QuiverServer;
import dev.quiver.server.QuiverServers;
import dev.quiver.server.flight.IdTable;
import dev.quiver.server.flight.TestServers;
import dev.quiver.testing.ArrowAllocatorExtension;
import dev.quiver.testing.Await;
import dev.quiver.testing.IpcMessages;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.MetadataVersion;
import org.apache.arrow.vector.types.UnionMode;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads that Flight cannot decode: each is answered INVALID_ARGUMENT naming the problem (gRPC
 * said UNKNOWN "Application error processing RPC" for what failed in Flight's marshaller), the call
 * ends, and every byte, Flight's transport memory included, is given back (Flight's decoder leaked
 * the buffers of a message that failed halfway).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class MalformedMessagesTest {
  @RegisterExtension final QuiverServers servers = new QuiverServers();

  @TempDir Path dataDir;
  private QuiverServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server = servers.start(dataDir, "memory.total", "256MB");
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    channel.awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void aHeaderThatIsNoIpcMessageIsInvalidArgumentNotUnknown(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] garbage = new byte[64];
    Arrays.fill(garbage, (byte) 0x7f);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(garbage, ipc.get(3), false));
    assertRefusedAndFreed(status, "DoPut: the client sent a malformed Arrow IPC");
  }

  @Test
  void aBatchWhoseBuffersRunPastItsBodyIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] body = ipc.get(3);
    byte[] shortBody = Arrays.copyOf(body, body.length / 2);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(ipc.get(2), shortBody, false));
    assertRefusedAndFreed(status, "the IPC message header is malformed");
  }

  @Test
  void aMessageOfATypeFlightCannotHoldIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] header = ipc.get(2).clone();
    // The flatbuffer's header_type byte: find it by trying each byte until one gives type 4.
    byte[] tensor = withHeaderType(header, (byte) 4);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(tensor, ipc.get(3), false));
    assertRefusedAndFreed(status, "IPC message type 4");
  }

  @Test
  void aSecondSchemaMidStreamIsRefusedAndFreed(BufferAllocator allocator) throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    Status status =
        put(
            frame(ipc.get(0), new byte[0], true),
            frame(ipc.get(2), ipc.get(3), false),
            frame(ipc.get(0), new byte[0], false),
            frame(ipc.get(4), ipc.get(5), false));
    assertRefusedAndFreed(status, "a second schema message mid-stream");
  }

  @Test
  void aBatchBeforeTheSchemaIsRefused(BufferAllocator allocator) throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    Status status = put(frame(ipc.get(2), ipc.get(3), true), frame(ipc.get(0), new byte[0], false));
    assertRefusedAndFreed(status, "a batch before the stream's schema");
  }

  @Test
  void aStreamWhoseFirstMessageHasNoDescriptorIsRefused(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    Status status =
        put(frame(ipc.get(0), new byte[0], false), frame(ipc.get(2), ipc.get(3), false));
    assertRefusedAndFreed(status, "first FlightData carries no FlightDescriptor");
  }

  @Test
  void aBatchWithMoreRowsThanItsBuffersHoldIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    List<byte[]> longer = batchClaiming(allocator, 1000);
    Status status =
        put(frame(ipc.get(0), new byte[0], true), frame(longer.get(0), longer.get(1), false));
    assertRefusedAndFreed(status, "holds 100 values (0 null) where 1000 are needed");
  }

  @Test
  void aBatchWhoseNodesClaimMoreValuesThanItsBuffersHoldIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    // Rows and field node agree on 1,000; the buffers hold 100 ids.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, 0, 100);
      try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch();
          ArrowRecordBatch claiming =
              new ArrowRecordBatch(
                  1000,
                  List.of(new org.apache.arrow.vector.ipc.message.ArrowFieldNode(1000, 0)),
                  batch.getBuffers())) {
        MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), claiming);
      }
    }
    List<byte[]> batch = IpcMessages.headersAndBodies(out.toByteArray());
    List<byte[]> ipc = validIpc(allocator);
    Status status =
        put(frame(ipc.get(0), new byte[0], true), frame(batch.get(0), batch.get(1), false));
    assertRefusedAndFreed(
        status, "field id: its VALIDITY buffer holds 13 bytes, 1000 values need 125");
  }

  @Test
  void aStreamThatEndsBeforeItsFirstMessageIsRefused() throws Exception {
    Status status = put();
    assertRefusedAndFreed(status, "the stream ended before its first message");
  }

  @Test
  void aStreamThatEndsBeforeItsSchemaIsRefused() throws Exception {
    Status status = put(frame(new byte[0], new byte[0], true));
    assertRefusedAndFreed(status, "the stream ended before its schema");
  }

  @Test
  void aBodyWithoutAHeaderIsRefusedAndFreed(BufferAllocator allocator) throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    Status status =
        put(frame(ipc.get(0), new byte[0], true), frame(new byte[0], ipc.get(3), false));
    assertRefusedAndFreed(status, "FlightData carries a body but no IPC header");
  }

  @Test
  void aBatchWhoseOffsetsRunBackwardsIsRefusedAndFreed(BufferAllocator allocator) throws Exception {
    Schema schema = new Schema(List.of(Field.nullable("name", ArrowType.Utf8.INSTANCE)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      VarCharVector names = (VarCharVector) root.getVector("name");
      for (int i = 0; i < 100; i++) {
        names.setSafe(i, ("name " + i).getBytes(StandardCharsets.UTF_8));
      }
      root.setRowCount(100);
      writer.start();
      writer.writeBatch();
    }
    List<byte[]> ipc = IpcMessages.headersAndBodies(out.toByteArray());
    // The last offset, negative: Arrow's unloader then throws halfway and leaked what it retained.
    byte[] body = withLastOffset(ipc.get(2), ipc.get(3), 100, -8);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(ipc.get(2), body, false));
    assertRefusedAndFreed(status, "The uploaded record batch is malformed");
  }

  @Test
  void aListWhoseOffsetsRunPastItsValuesIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    Schema schema =
        new Schema(
            List.of(
                new Field(
                    "tags",
                    FieldType.nullable(ArrowType.List.INSTANCE),
                    List.of(Field.nullable("tag", new ArrowType.Int(32, true))))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      org.apache.arrow.vector.complex.ListVector tags =
          (org.apache.arrow.vector.complex.ListVector) root.getVector("tags");
      org.apache.arrow.vector.complex.impl.UnionListWriter lists = tags.getWriter();
      for (int i = 0; i < 100; i++) {
        lists.setPosition(i);
        lists.startList();
        lists.writeInt(i);
        lists.writeInt(-i);
        lists.endList();
      }
      root.setRowCount(100);
      writer.start();
      writer.writeBatch();
    }
    List<byte[]> ipc = IpcMessages.headersAndBodies(out.toByteArray());
    // The last offset far past the 200 values the body holds: Arrow would grow the values to fit.
    byte[] body = withLastOffset(ipc.get(2), ipc.get(3), 100, 1 << 20);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(ipc.get(2), body, false));
    assertRefusedAndFreed(status, "offsets");
  }

  @Test
  void aSchemaFlightWouldRefuseIsRefusedWithoutStrandingTheHandler() throws Exception {
    // Unions in a V4 stream: Flight refuses the schema without taking the message's descriptor.
    Schema unions =
        new Schema(
            List.of(
                new Field(
                    "u",
                    FieldType.nullable(new ArrowType.Union(UnionMode.Sparse, new int[] {0})),
                    List.of(Field.nullable("i", new ArrowType.Int(32, true))))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MessageSerializer.serialize(
        new WriteChannel(Channels.newChannel(out)),
        unions,
        new IpcOption(false, MetadataVersion.V4));
    List<byte[]> ipc = IpcMessages.headersAndBodies(out.toByteArray());
    Status status = put(frame(ipc.get(0), new byte[0], true));
    assertRefusedAndFreed(status, "the IPC message header is malformed");
  }

  @Test
  void aValidRawPutStillCommits(BufferAllocator allocator) throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    Status status =
        put(
            frame(ipc.get(0), new byte[0], true),
            frame(ipc.get(2), ipc.get(3), false),
            frame(ipc.get(4), ipc.get(5), false));
    assertThat(status.getCode()).isEqualTo(Status.Code.OK);
    awaitMemoryReturned();
  }

  /** Checks the call was refused INVALID_ARGUMENT naming {@code problem}, and all freed. */
  private void assertRefusedAndFreed(Status status, String problem) throws InterruptedException {
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains(problem);
    awaitMemoryReturned();
  }

  private void awaitMemoryReturned() throws InterruptedException {
    assertThat(server.memory().awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
    Await.until(
        () ->
            server.memory().allocated() == 0
                && server.memory().transport().getAllocatedMemory() == 0,
        "the governor and Flight's transport memory to return to zero");
    Await.until(
        () -> !handlerWaitingOnFlight(),
        "no DoPut handler left waiting for a descriptor or schema that will never come");
  }

  /**
   * Whether a thread of this (in-process) server waits in Flight for a stream's descriptor or
   * schema.
   */
  private static boolean handlerWaitingOnFlight() {
    return Thread.getAllStackTraces().values().stream()
        .flatMap(Arrays::stream)
        .anyMatch(
            frame ->
                frame.getClassName().equals(FlightStream.class.getName())
                    && (frame.getMethodName().equals("getDescriptor")
                        || frame.getMethodName().equals("getRoot")));
  }

  /** Sends {@code frames} as one DoPut and returns the status it ends with. */
  private Status put(Flight.FlightData... frames) throws Exception {
    TestServers.RawPut put = TestServers.rawPut(channel);
    for (Flight.FlightData frame : frames) {
      put.requests().onNext(frame);
    }
    put.requests().onCompleted();
    try {
      return put.status().get(40, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new StatusRuntimeException(Status.fromThrowable(e.getCause()));
    }
  }

  private static Flight.FlightData frame(byte[] header, byte[] body, boolean descriptor) {
    Flight.FlightData.Builder data =
        Flight.FlightData.newBuilder()
            .setDataHeader(ByteString.copyFrom(header))
            .setDataBody(ByteString.copyFrom(body));
    if (descriptor) {
      data.setFlightDescriptor(
          Flight.FlightDescriptor.newBuilder()
              .setType(Flight.FlightDescriptor.DescriptorType.PATH)
              .addPath("ns")
              .addPath("t"));
    }
    return data.build();
  }

  /** The header with its message type changed to {@code type} (the first byte that does it). */
  private static byte[] withHeaderType(byte[] header, byte type) {
    for (int i = 0; i < header.length; i++) {
      byte[] candidate = header.clone();
      candidate[i] = type;
      try {
        Message message =
            Message.getRootAsMessage(ByteBuffer.wrap(candidate).order(ByteOrder.LITTLE_ENDIAN));
        if (message.headerType() == type && message.version() == 4) {
          return candidate;
        }
      } catch (RuntimeException notThisByte) {
        // keep looking
      }
    }
    throw new AssertionError("no header type byte found");
  }

  /**
   * A copy of a one-column batch's body whose offsets buffer (the batch's second buffer) ends,
   * after {@code rows} rows, at {@code value}.
   */
  private static byte[] withLastOffset(byte[] header, byte[] body, int rows, int value) {
    RecordBatch batch =
        (RecordBatch)
            Message.getRootAsMessage(ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN))
                .header(new RecordBatch());
    byte[] changed = body.clone();
    ByteBuffer.wrap(changed)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt((int) batch.buffers(1).offset() + rows * Integer.BYTES, value);
    return changed;
  }

  /** A batch of 100 rows of {@link IdTable#SCHEMA} whose header claims {@code rows} rows. */
  private static List<byte[]> batchClaiming(BufferAllocator allocator, int rows) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator)) {
      IdTable.fill(root, 0, 100);
      try (ArrowRecordBatch batch = new VectorUnloader(root).getRecordBatch();
          ArrowRecordBatch claiming =
              new ArrowRecordBatch(rows, batch.getNodes(), batch.getBuffers())) {
        MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), claiming);
      }
    }
    return IpcMessages.headersAndBodies(out.toByteArray());
  }

  /** Schema, then two batches of {@link IdTable#SCHEMA}: header and body bytes in turn. */
  private static List<byte[]> validIpc(BufferAllocator allocator) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(IdTable.SCHEMA, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      for (int b = 0; b < 2; b++) {
        IdTable.fill(root, b * 100L, 100);
        writer.writeBatch();
      }
    }
    return IpcMessages.headersAndBodies(out.toByteArray());
  }
}
