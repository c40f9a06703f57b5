package dev.quiver.server.flight.transport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OwnershipTransferResult;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.vector.BufferLayout;
import org.apache.arrow.vector.TypeLayout;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.ipc.message.ArrowDictionaryBatch;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.MetadataVersion;
import org.apache.arrow.vector.types.UnionMode;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.validate.MetadataV4UnionChecker;

/**
 * Checks each incoming FlightData of one DoPut or DoExchange stream, its protobuf framing and IPC
 * header, before Flight's decoder reads it, because that decoder and Flight's stream leak or hang
 * on what a well-behaved client never sends. One instance per stream: it remembers the stream's
 * schema.
 *
 * <p>Arrow Java 18.3's ArrowMessage decoder allocates the app metadata and body buffers from the
 * transport allocator as it meets those fields, and checks the IPC header (its message type and
 * metadata version) only afterwards; a header that fails there, a descriptor that follows the body
 * and does not parse, a field whose length runs past the message, or a second app metadata field
 * leaves the buffers allocated with no owner. FlightStream then retains a batch's body before
 * deserializing it and keeps that reference when the header's buffer layout does not fit the body
 * (FuzzIT: about 90 KB of transport memory lost per 300 malformed puts). Loading a batch whose
 * buffers are shorter than its row count makes Arrow grow the vectors, and a grow that fails
 * halfway (a validity buffer much shorter than the data buffer) loses what it had just allocated
 * (FuzzIT: 2 KB). A body without an IPC header is never freed. A second schema replaces the
 * stream's root and orphans the first root's buffers. A stream whose first message is a batch, or
 * carries no descriptor, leaves Flight's handler waiting for a descriptor that never comes.
 *
 * <p>So this check reads each message first, from a mark that it resets to, without copying the
 * body (it is skipped), and throws for anything of that. It accepts only FlightData's four fields,
 * each at most once, as every Flight client writes them; a first message that carries the
 * descriptor and no batch; one schema, before any batch; and batches whose every buffer is as long
 * as its field's length and type need (for uncompressed bodies). Of the body it reads only each
 * list's and map's last offset, which must not pass the child's length: Arrow sizes the child by it
 * while loading, growing it (and committing zeros) for a client that lies. What else lies inside
 * offsets and variable-length data is checked once the batch is loaded, by {@link
 * dev.quiver.server.flight.stream.FlightStreamReader}.
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

  private boolean first = true;
  private Schema schema;
  private final Map<Long, Field> dictionaries = new HashMap<>();

  /** Whether a schema message has passed this check. */
  boolean hasSchema() {
    return schema != null;
  }

  /** Whether {@code method}'s requests are FlightData that Flight decodes into Arrow buffers. */
  static boolean appliesTo(MethodDescriptor<?, ?> method) {
    return METHODS.contains(method.getFullMethodName());
  }

  /**
   * Checks the stream's next message in {@code stream} and resets the stream to where it was; a
   * stream that cannot be reset is left unread and unchecked.
   *
   * @throws IllegalArgumentException naming what is malformed
   */
  void check(InputStream stream) {
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

  private void checkFields(CodedInputStream in) throws IOException {
    in.setSizeLimit(Integer.MAX_VALUE);
    boolean[] seen = new boolean[FIELDS.length];
    byte[] header = null;
    long bodyLength = 0;
    boolean checked = false;
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
        case Flight.FlightData.DATA_BODY_FIELD_NUMBER -> {
          bodyLength = in.readRawVarint32();
          if (bodyLength < 0) {
            throw new IllegalArgumentException("FlightData's body has a negative length");
          }
          if (header != null) {
            // The usual order: the header first, so the few body values to check can be read.
            readProbes(in, bodyLength, checkHeader(header, bodyLength));
            checked = true;
          } else {
            in.skipRawBytes((int) bodyLength);
          }
        }
        default -> in.skipRawBytes(in.readRawVarint32()); // app metadata: only the length
      }
    }
    boolean descriptor = seen[indexOf(Flight.FlightData.FLIGHT_DESCRIPTOR_FIELD_NUMBER)];
    if (first && !descriptor) {
      throw new IllegalArgumentException(
          "the stream's first FlightData carries no FlightDescriptor");
    }
    first = false;
    if (header != null && !checked) {
      if (!checkHeader(header, bodyLength).isEmpty()) {
        throw new IllegalArgumentException(
            "FlightData carries its body before its IPC header, which lists offsets need");
      }
    } else if (header == null && bodyLength > 0) {
      // Flight frees a body only through the buffers its header lays out.
      throw new IllegalArgumentException("FlightData carries a body but no IPC header");
    }
  }

  /**
   * What Flight reads of the IPC header after it has allocated or retained the body: the message
   * type and version (its decoder), for a batch the layout Arrow's deserializer checks against the
   * body (FlightStream retains the body before deserializing and never releases it when that
   * throws), and the buffers' lengths against the schema. The batch is deserialized over a stand-in
   * body of the real length that owns no memory and is never read.
   */
  private List<Probe> checkHeader(byte[] header, long bodyLength) {
    MessageMetadataResult message;
    byte type;
    try {
      message = MessageMetadataResult.create(ByteBuffer.wrap(header), header.length);
      type = message.headerType();
      MetadataVersion.fromFlatbufID(message.getMessage().version());
    } catch (RuntimeException e) {
      throw malformed(e);
    }
    switch (type) {
      case MessageHeader.Schema -> {
        if (bodyLength > 0) {
          throw new IllegalArgumentException("a schema message carries a body");
        }
        if (schema != null) {
          throw new IllegalArgumentException(
              "a second schema message mid-stream; a stream carries one schema");
        }
        try {
          schema = MessageSerializer.deserializeSchema(message);
          // Flight refuses these without taking the message's descriptor, which its handler
          // would then wait for.
          MetadataV4UnionChecker.checkRead(
              schema, MetadataVersion.fromFlatbufID(message.getMessage().version()));
        } catch (RuntimeException | IOException e) {
          throw malformed(e);
        }
        collectDictionaries(schema.getFields());
        return List.of();
      }
      case MessageHeader.RecordBatch, MessageHeader.DictionaryBatch -> {
        if (schema == null) {
          throw new IllegalArgumentException("a batch before the stream's schema");
        }
        return checkBatch(message, type, bodyLength);
      }
      default ->
          // NONE with a header, or a Tensor: Flight keeps such a message's body and never frees it.
          throw new IllegalArgumentException(
              "IPC message type " + type + " is not a schema, dictionary batch or record batch");
    }
  }

  private List<Probe> checkBatch(MessageMetadataResult message, byte type, long bodyLength) {
    // At address 0, so each buffer's address is its offset in the body.
    ArrowBuf body = new ArrowBuf(LayoutOnly.INSTANCE, null, bodyLength, 0);
    if (type == MessageHeader.RecordBatch) {
      try (ArrowRecordBatch batch =
          deserialize(() -> MessageSerializer.deserializeRecordBatch(message, body))) {
        return checkLayout(schema.getFields(), batch);
      }
    } else {
      try (ArrowDictionaryBatch batch =
          deserialize(() -> MessageSerializer.deserializeDictionaryBatch(message, body))) {
        Field values = dictionaries.get(batch.getDictionaryId());
        if (values == null) {
          throw new IllegalArgumentException(
              "a dictionary batch for id "
                  + batch.getDictionaryId()
                  + ", which no field of the schema uses");
        }
        return checkLayout(List.of(values), batch.getDictionary());
      }
    }
  }

  /**
   * A value in the body to check before Flight loads the batch: where a list's offsets end. Arrow
   * sets a list's child to as many values as the last offset says, growing it past what the body
   * holds (and committing the zeros) when a client lies.
   *
   * @param field the list field
   * @param position the offset's position in the body
   * @param width its bytes: 4, or 8 for a large list
   * @param childLength the values the child's field node holds: the most the offset may say
   */
  private record Probe(String field, long position, int width, long childLength) {}

  /** Reads the body (positioned at its start) and checks each probe's value. */
  private static void readProbes(CodedInputStream in, long bodyLength, List<Probe> probes)
      throws IOException {
    List<Probe> sorted = new ArrayList<>(probes);
    sorted.sort(Comparator.comparingLong(Probe::position));
    long at = 0;
    for (Probe probe : sorted) {
      if (probe.position() < at) {
        throw new IllegalArgumentException(
            "the batch's buffers overlap at the offsets of field " + probe.field());
      }
      in.skipRawBytes((int) (probe.position() - at));
      long end =
          probe.width() == Long.BYTES ? in.readRawLittleEndian64() : in.readRawLittleEndian32();
      at = probe.position() + probe.width();
      if (end < 0 || end > probe.childLength()) {
        throw new IllegalArgumentException(
            String.format(
                "field %s: its offsets end at %d, but its values hold %d",
                probe.field(), end, probe.childLength()));
      }
    }
    in.skipRawBytes((int) (bodyLength - at));
  }

  /**
   * The stand-in body's reference manager: owns no memory, and slices carry their own offset (as
   * their address) and length. (Arrow's NO_OP manager hands back the whole body for every slice,
   * which would make every buffer look as long as the body.)
   */
  private static final class LayoutOnly implements ReferenceManager {
    static final LayoutOnly INSTANCE = new LayoutOnly();

    @Override
    public ArrowBuf deriveBuffer(ArrowBuf sourceBuffer, long index, long length) {
      return new ArrowBuf(this, null, length, sourceBuffer.memoryAddress() + index);
    }

    @Override
    public int getRefCount() {
      return 1;
    }

    @Override
    public boolean release() {
      return false;
    }

    @Override
    public boolean release(int decrement) {
      return false;
    }

    @Override
    public void retain() {}

    @Override
    public void retain(int increment) {}

    @Override
    public ArrowBuf retain(ArrowBuf srcBuffer, BufferAllocator targetAllocator) {
      return srcBuffer;
    }

    @Override
    public OwnershipTransferResult transferOwnership(
        ArrowBuf sourceBuffer, BufferAllocator targetAllocator) {
      throw new UnsupportedOperationException("a stand-in body owns no memory");
    }

    @Override
    public BufferAllocator getAllocator() {
      return null;
    }

    @Override
    public long getSize() {
      return 0;
    }

    @Override
    public long getAccountedSize() {
      return 0;
    }
  }

  /** What deserializing a header can throw. */
  private interface Deserializer<T> {
    T get() throws IOException;
  }

  private static <T> T deserialize(Deserializer<T> deserializer) {
    try {
      return deserializer.get();
    } catch (RuntimeException | IOException e) {
      throw malformed(e);
    }
  }

  private static IllegalArgumentException malformed(Exception e) {
    return new IllegalArgumentException("the IPC message header is malformed: " + e, e);
  }

  /** Each dictionary's values as a field of the dictionary's value type (nested ones included). */
  private void collectDictionaries(List<Field> fields) {
    for (Field field : fields) {
      if (field.getDictionary() != null) {
        dictionaries.put(
            field.getDictionary().getId(),
            new Field(
                field.getName(),
                new FieldType(true, field.getType(), null, field.getMetadata()),
                field.getChildren()));
      }
      collectDictionaries(field.getChildren());
    }
  }

  /**
   * Checks that each field node and buffer of {@code batch} covers the length it claims, in the
   * order Arrow's VectorLoader reads them, so that loading it never makes Arrow grow a vector.
   */
  private static List<Probe> checkLayout(List<Field> fields, ArrowRecordBatch batch) {
    if (CompressionUtil.CodecType.fromCompressionType(batch.getBodyCompression().getCodec())
        != CompressionUtil.CodecType.NO_COMPRESSION) {
      return List.of(); // Flight's loader refuses compressed bodies before it allocates anything
    }
    Iterator<ArrowFieldNode> nodes = batch.getNodes().iterator();
    Iterator<ArrowBuf> buffers = batch.getBuffers().iterator();
    List<Probe> probes = new ArrayList<>();
    for (Field field : fields) {
      if (checkField(field, batch.getLength(), nodes, buffers, probes) < 0) {
        break;
      }
    }
    return probes;
  }

  /**
   * Checks one field's node and buffers, then its children's, and adds a probe for a list's last
   * offset; returns the field's length, or -1 when a layout of variable buffer count (views) means
   * the rest cannot be lined up, and is left to Arrow's own checks.
   */
  private static long checkField(
      Field field,
      long minLength,
      Iterator<ArrowFieldNode> nodes,
      Iterator<ArrowBuf> buffers,
      List<Probe> probes) {
    boolean encoded = field.getDictionary() != null;
    ArrowType type = encoded ? field.getDictionary().getIndexType() : field.getType();
    if (!nodes.hasNext()) {
      throw new IllegalArgumentException("the batch has no field node for " + field.getName());
    }
    ArrowFieldNode node = nodes.next();
    long length = node.getLength();
    long nulls = node.getNullCount();
    if (length < minLength || nulls < 0 || nulls > length) {
      throw new IllegalArgumentException(
          String.format(
              "field %s holds %d values (%d null) where %d are needed",
              field.getName(), length, nulls, minLength));
    }
    TypeLayout layout = TypeLayout.getTypeLayout(type);
    if (!layout.isFixedBufferCount()) {
      return -1;
    }
    long lastOffset = -1; // a list's offsets[length], as a position in the body
    int offsetBytes = 0;
    for (BufferLayout buffer : layout.getBufferLayouts()) {
      if (!buffers.hasNext()) {
        throw new IllegalArgumentException("the batch has too few buffers for " + field.getName());
      }
      ArrowBuf data = buffers.next();
      long capacity = data.capacity();
      if (buffer.getType() == BufferLayout.BufferType.OFFSET && listLike(type) && length > 0) {
        offsetBytes = buffer.getTypeBitWidth() / 8;
        lastOffset = data.memoryAddress() + length * offsetBytes;
      }
      long needed = needed(buffer, type, length);
      boolean fits =
          buffer.getType() == BufferLayout.BufferType.VALIDITY && capacity == 0
              ? nulls == 0 || nulls == length // Arrow allocates this validity itself
              : capacity >= needed;
      if (!fits) {
        throw new IllegalArgumentException(
            String.format(
                "field %s: its %s buffer holds %d bytes, %d values need %d",
                field.getName(), buffer.getType().getName(), capacity, length, needed));
      }
    }
    long childLength =
        switch (type.getTypeID()) {
          case Struct -> length;
          case FixedSizeList -> length * ((ArrowType.FixedSizeList) type).getListSize();
          case Union -> ((ArrowType.Union) type).getMode() == UnionMode.Sparse ? length : 0;
          default -> 0; // lists and maps: set by their last offset, probed in the body
        };
    for (Field child : encoded ? List.<Field>of() : field.getChildren()) {
      long actual = checkField(child, childLength, nodes, buffers, probes);
      if (actual < 0) {
        return -1;
      }
      if (lastOffset >= 0) {
        probes.add(new Probe(field.getName(), lastOffset, offsetBytes, actual));
      }
    }
    return length;
  }

  /** Lists and maps: their child's length is what their last offset says. */
  private static boolean listLike(ArrowType type) {
    return switch (type.getTypeID()) {
      case List, LargeList, Map -> true;
      default -> false;
    };
  }

  /** The bytes {@code length} values of {@code type} need in {@code buffer}. */
  private static long needed(BufferLayout buffer, ArrowType type, long length) {
    long bits = buffer.getTypeBitWidth();
    return switch (buffer.getType()) {
      case VALIDITY -> (length + 7) / 8;
      case OFFSET ->
          switch (type.getTypeID()) {
            // one offset per value: a dense union's, a list view's (its sizes are separate)
            case Union, ListView, LargeListView -> length * bits / 8;
            default -> length == 0 ? 0 : (length + 1) * bits / 8;
          };
      case DATA -> variableData(type) ? 0 : (length * bits + 7) / 8;
      case TYPE, SIZE, VIEWS -> (length * bits + 7) / 8;
      default -> 0;
    };
  }

  /** Whether the type's data buffer is as long as its offsets say rather than its length. */
  private static boolean variableData(ArrowType type) {
    return switch (type.getTypeID()) {
      case Utf8, LargeUtf8, Binary, LargeBinary -> true;
      default -> false;
    };
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
