package dev.quiver.server.flight;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.quiver.server.QuiverServer;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads that Flight cannot decode: each is answered INVALID_ARGUMENT naming the problem (gRPC
 * said UNKNOWN "Application error processing RPC" for what failed in Flight's marshaller), the call
 * ends, and every byte, Flight's transport memory included, is given back (Flight's decoder leaked
 * the buffers of a message that failed halfway).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class MalformedMessagesTest {
  @TempDir Path dataDir;
  private QuiverServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server = TestServers.start(dataDir, "memory.total", "256MB");
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    channel.awaitTermination(10, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void aHeaderThatIsNoIpcMessageIsInvalidArgumentNotUnknown(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] garbage = new byte[64];
    Arrays.fill(garbage, (byte) 0x7f);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(garbage, ipc.get(3), false));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).startsWith("DoPut: the client sent a malformed Arrow IPC");
    awaitMemoryReturned();
  }

  @Test
  void aBatchWhoseBuffersRunPastItsBodyIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] body = ipc.get(3);
    byte[] shortBody = Arrays.copyOf(body, body.length / 2);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(ipc.get(2), shortBody, false));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("the IPC message header is malformed");
    awaitMemoryReturned();
  }

  @Test
  void aMessageOfATypeFlightCannotHoldIsRefusedAndFreed(BufferAllocator allocator)
      throws Exception {
    List<byte[]> ipc = validIpc(allocator);
    byte[] header = ipc.get(2).clone();
    // The flatbuffer's header_type byte: find it by trying each byte until one gives type 4.
    byte[] tensor = withHeaderType(header, (byte) 4);
    Status status = put(frame(ipc.get(0), new byte[0], true), frame(tensor, ipc.get(3), false));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("IPC message type 4");
    awaitMemoryReturned();
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

  private void awaitMemoryReturned() throws InterruptedException {
    assertThat(server.memory().awaitCallsClosed(Duration.ofSeconds(30))).isTrue();
    Await.until(
        () ->
            server.memory().allocated() == 0
                && server.memory().transport().getAllocatedMemory() == 0,
        "the governor and Flight's transport memory to return to zero");
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
        org.apache.arrow.flatbuf.Message message =
            org.apache.arrow.flatbuf.Message.getRootAsMessage(
                ByteBuffer.wrap(candidate).order(ByteOrder.LITTLE_ENDIAN));
        if (message.headerType() == type && message.version() == 4) {
          return candidate;
        }
      } catch (RuntimeException notThisByte) {
        // keep looking
      }
    }
    throw new AssertionError("no header type byte found");
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
