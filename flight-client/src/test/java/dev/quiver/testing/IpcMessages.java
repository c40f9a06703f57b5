package dev.quiver.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flatbuf.Message;

/** Splits an Arrow IPC stream into its messages, for tests that send raw FlightData frames. */
public final class IpcMessages {
  private IpcMessages() {}

  /**
   * The messages of {@code stream} (as ArrowStreamWriter writes it), each as two entries: the bytes
   * of its flatbuffer header, then its body (the two parts of a FlightData).
   */
  public static List<byte[]> headersAndBodies(byte[] stream) {
    ByteBuffer in = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> messages = new ArrayList<>();
    while (in.remaining() >= 8) {
      int continuation = in.getInt();
      int length = continuation == -1 ? in.getInt() : continuation;
      if (length == 0) {
        break;
      }
      byte[] header = new byte[length];
      in.get(header);
      long bodyLength =
          Message.getRootAsMessage(ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN))
              .bodyLength();
      byte[] body = new byte[(int) bodyLength];
      in.get(body);
      messages.add(header);
      messages.add(body);
    }
    return messages;
  }
}
