package dev.quiver.server.flight;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Set;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.MetadataVersion;

/**
 * Checks an incoming FlightData's protobuf framing and IPC header before Flight's decoder reads it,
 * because that decoder leaks what it allocated when it fails halfway.
 *
 * <p>Arrow Java 18.3's ArrowMessage decoder allocates the app metadata and body buffers from the
 * transport allocator as it meets those fields, and checks the IPC header (its message type and
 * metadata version) only afterwards; a header that fails there, a descriptor that follows the body
 * and does not parse, a field whose length runs past the message, or a second app metadata field
 * leaves the buffers allocated with no owner. FlightStream then retains a batch's body before
 * deserializing it and keeps that reference when the header's buffer layout does not fit the body
 * (FuzzIT: about 90 KB of transport memory lost per 300 malformed puts). This check reads the same
 * message first, from a mark that it resets to, without copying the body (it is skipped), and
 * throws for anything on which that decoder would fail after allocating. It accepts only
 * FlightData's four fields, each at most once, as every Flight client writes them.
 */
final class FlightDataCheck {
  private static final Set<String> METHODS =
      Set.of(
          FlightServiceGrpc.getDoPutMethod().getFullMethodName(),
          FlightServiceGrpc.getDoExchangeMethod().getFullMethodName());
  private static final int[] FIELDS = {
    Flight.FlightData.FLIGHT_DESCRIPTOR_FIELD_NUMBER,
    Flight.FlightData.DATA_HEADER_FIELD_NUMBER,
    Flight.FlightData.APP_METADATA_FIELD_NUMBER,
    Flight.FlightData.DATA_BODY_FIELD_NUMBER
  };

  private FlightDataCheck() {}

  /** Whether {@code method}'s requests are FlightData that Flight decodes into Arrow buffers. */
  static boolean appliesTo(MethodDescriptor<?, ?> method) {
    return METHODS.contains(method.getFullMethodName());
  }

  /**
   * Checks the message in {@code stream} and resets the stream to where it was; a stream that
   * cannot be reset is left unread and unchecked.
   *
   * @throws IllegalArgumentException naming what is malformed
   */
  static void check(InputStream stream) {
    if (!stream.markSupported()) {
      return;
    }
    stream.mark(Integer.MAX_VALUE);
    try {
      checkFields(CodedInputStream.newInstance(stream));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "FlightData is not a valid protobuf: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        stream.reset();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static void checkFields(CodedInputStream in) throws IOException {
    in.setSizeLimit(Integer.MAX_VALUE);
    boolean[] seen = new boolean[FIELDS.length];
    byte[] header = null;
    long bodyLength = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int field = WireFormat.getTagFieldNumber(tag);
      int index = indexOf(field);
      if (index < 0 || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        throw new IllegalArgumentException("FlightData has an unexpected field " + field);
      }
      if (seen[index]) {
        throw new IllegalArgumentException("FlightData has field " + field + " twice");
      }
      seen[index] = true;
      switch (field) {
        case Flight.FlightData.FLIGHT_DESCRIPTOR_FIELD_NUMBER ->
            Flight.FlightDescriptor.parseFrom(in.readByteArray());
        case Flight.FlightData.DATA_HEADER_FIELD_NUMBER -> header = in.readByteArray();
        default -> {
          int length = in.readRawVarint32(); // app metadata, body: only the length is read
          in.skipRawBytes(length);
          if (field == Flight.FlightData.DATA_BODY_FIELD_NUMBER) {
            bodyLength = length;
          }
        }
      }
    }
    if (header != null) {
      checkHeader(header, bodyLength);
    }
  }

  /**
   * What Flight reads of the IPC header after it has allocated or retained the body: the message
   * type and version (its decoder), and for a batch the layout Arrow's deserializer checks against
   * the body (FlightStream retains the body before deserializing and never releases it when that
   * throws). The batch is deserialized over a stand-in body of the real length that owns no memory
   * and is never read.
   */
  private static void checkHeader(byte[] header, long bodyLength) {
    try {
      MessageMetadataResult message =
          MessageMetadataResult.create(ByteBuffer.wrap(header), header.length);
      byte type = message.headerType();
      if (type != MessageHeader.Schema
          && type != MessageHeader.DictionaryBatch
          && type != MessageHeader.RecordBatch) {
        // NONE with a header, or a Tensor: Flight keeps such a message's body and never frees it.
        throw new IllegalArgumentException(
            "IPC message type " + type + " is not a schema, dictionary batch or record batch");
      }
      if (type == MessageHeader.Schema && bodyLength > 0) {
        throw new IllegalArgumentException("a schema message carries a body");
      }
      MetadataVersion.fromFlatbufID(message.getMessage().version());
      ArrowBuf body = new ArrowBuf(ReferenceManager.NO_OP, null, bodyLength, 0);
      if (type == MessageHeader.RecordBatch) {
        MessageSerializer.deserializeRecordBatch(message, body).close();
      } else if (type == MessageHeader.DictionaryBatch) {
        MessageSerializer.deserializeDictionaryBatch(message, body).close();
      }
    } catch (RuntimeException | IOException e) {
      throw new IllegalArgumentException("the IPC message header is malformed: " + e, e);
    }
  }

  private static int indexOf(int field) {
    for (int i = 0; i < FIELDS.length; i++) {
      if (FIELDS[i] == field) {
        return i;
      }
    }
    return -1;
  }
}
