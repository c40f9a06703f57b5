package dev.quiver.server.flight.stream;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.table.parquet.ArrowSchemas;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.Decimal256Vector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.TransferPair;
import org.apache.arrow.vector.util.ValueVectorUtility;
import org.apache.arrow.vector.validate.ValidateUtil;

/**
 * An {@link ArrowReader} over a DoPut's {@link FlightStream}, so the upload can be handed to a
 * consumer of readers (the Parquet writer) batch by batch, without copying the data.
 *
 * <p>Each batch's buffers move from the stream's root to this reader's root by reference counting.
 * Reading pulls from the network only when the consumer asks for the next batch, so a fast client
 * cannot fill the server's memory. Not thread-safe: one consumer thread at a time. Closing the
 * reader does not close the stream (Flight owns it).
 */
public final class FlightStreamReader extends ArrowReader {
  private final FlightStream stream;
  private final LongConsumer afterBatch;

  public FlightStreamReader(BufferAllocator allocator, FlightStream stream) {
    this(allocator, stream, bytes -> {});
  }

  /**
   * A reader that hands {@code afterBatch} the bytes each batch holds once it is loaded, before the
   * consumer sees it; whatever that throws fails the read (the memory limit check).
   */
  public FlightStreamReader(
      BufferAllocator allocator, FlightStream stream, LongConsumer afterBatch) {
    super(allocator);
    this.stream = stream;
    this.afterBatch = afterBatch;
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    if (!nextMessage()) {
      return false;
    }
    VectorSchemaRoot source = stream.getRoot();
    Map<Long, Dictionary> dictionaries = streamDictionaries();
    // Checked where Flight loaded it, before anything is unloaded or split from it: Arrow's
    // unloader retains the buffers one by one and leaks those it has when a malformed vector makes
    // it throw (FuzzIT: utf8 offsets past the data left 4 KB of transport memory).
    validate(source.getFieldVectors(), dictionaries.values());
    copyDictionaries(dictionaries);
    try (ArrowRecordBatch batch = new VectorUnloader(source).getRecordBatch()) {
      new VectorLoader(getVectorSchemaRoot()).load(batch);
    }
    long bytes = 0;
    for (FieldVector vector : getVectorSchemaRoot().getFieldVectors()) {
      bytes += vector.getBufferSize();
    }
    afterBatch.accept(bytes);
    return true;
  }

  /**
   * The stream's next batch, with a batch Arrow cannot load (lengths and offsets that do not fit
   * its buffers) reported as the client's error rather than an internal one.
   */
  private boolean nextMessage() {
    try {
      return stream.next();
    } catch (FlightRuntimeException | OutOfMemoryException e) {
      throw e;
    } catch (RuntimeException e) {
      // What Arrow throws for IPC it cannot load: IndexOutOfBounds, IllegalArgument,
      // IllegalState (metadata version), RuntimeException(IOException) (oversized lengths).
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          e,
          "The upload is not a valid Arrow IPC stream: %s",
          e.getMessage());
    }
  }

  /**
   * Checks the batch (and its dictionaries) the way a native reader needs it: offsets in bounds and
   * ordered, buffers as long as the value count says. Arrow Java loads a batch from the wire
   * without these checks, and DuckDB, which reads the batch through the C Data interface, trusts
   * them: a hostile or corrupt batch crashed the whole server with SIGSEGV in DuckDB's
   * ArrowToDuckDBConversion (found by FuzzIT). Costs one pass over offsets and validity (not
   * measured against the put benchmarks yet).
   */
  private static void validate(List<FieldVector> vectors, Collection<Dictionary> dictionaries)
      throws IOException {
    try {
      for (FieldVector vector : vectors) {
        check(vector);
      }
      for (Dictionary dictionary : dictionaries) {
        check(dictionary.getVector());
      }
    } catch (ValidateUtil.ValidateException
        | IllegalArgumentException
        | IndexOutOfBoundsException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT,
          e,
          "The uploaded record batch is malformed: %s",
          e.getMessage());
    }
  }

  /**
   * Arrow's full validation, except where Arrow Java 18.3's validator rejects valid data (found by
   * PyArrowIT): it knows no float16 ("Unknown type for fixed width vector"), checks a map's type
   * against the wrong class, and range-checks decimal values, nulls' slots included. Those get the
   * bounds checks native readers need: buffers as long as the value count says, and for maps
   * ordered offsets within the entries, whose children are checked in turn.
   */
  private static void check(FieldVector vector) {
    if (vector instanceof MapVector map) {
      checkValidity(map);
      int count = map.getValueCount();
      ArrowBuf offsets = map.getOffsetBuffer();
      if (count > 0) {
        long needed = (count + 1L) * MapVector.OFFSET_WIDTH;
        require(offsets.capacity() >= needed, map, "offset buffer shorter than its value count");
        int previous = offsets.getInt(0);
        require(previous >= 0, map, "negative first offset");
        for (int i = 1; i <= count; i++) {
          int offset = offsets.getInt((long) i * MapVector.OFFSET_WIDTH);
          require(offset >= previous, map, "offsets out of order at " + i);
          previous = offset;
        }
        require(previous <= map.getDataVector().getValueCount(), map, "offsets past its entries");
      }
      check(map.getDataVector());
    } else if (vector instanceof StructVector struct && hasUnvalidatable(struct)) {
      checkValidity(struct);
      for (FieldVector child : struct.getChildrenFromFields()) {
        require(child.getValueCount() >= struct.getValueCount(), struct, "children too short");
        check(child);
      }
    } else if (vector instanceof Float2Vector
        || vector instanceof DecimalVector
        || vector instanceof Decimal256Vector) {
      BaseFixedWidthVector fixed = (BaseFixedWidthVector) vector;
      checkValidity(fixed);
      require(
          fixed.getDataBuffer().capacity() >= (long) fixed.getValueCount() * fixed.getTypeWidth(),
          fixed,
          "data buffer shorter than its value count");
    } else if (hasUnvalidatable(vector)) {
      throw new ValidateUtil.ValidateException(
          "Column "
              + vector.getName()
              + " of type "
              + vector.getField().getType()
              + " holds a map, float16 or decimal Quiver cannot check inside it");
    } else if (vector instanceof VarCharVector utf8) {
      checkUtf8(utf8);
    } else {
      ValueVectorUtility.validateFull(vector);
    }
  }

  /**
   * What {@code validateFull} checks in a utf8 column, at a fraction of its cost: Arrow Java 18.3
   * copies every value into a byte[] and formats an error message per value to check its UTF-8
   * (about 40 ns a value, 0.42 s of CPU per 10 M rows of the mixed benchmark schema: nearly all of
   * a put's validation). Here the offsets are checked in one pass, then the values' bytes are read
   * eight at a time: when no byte has its high bit set every value is ASCII, so valid UTF-8;
   * otherwise Arrow's per-value check runs.
   */
  public static void checkUtf8(VarCharVector vector) {
    ValueVectorUtility.validate(vector); // buffer sizes, as validateFull starts with
    int count = vector.getValueCount();
    if (count == 0) {
      return;
    }
    ArrowBuf offsets = vector.getOffsetBuffer();
    int first = offsets.getInt(0);
    require(first >= 0, vector, "negative first offset");
    int previous = first;
    for (int i = 1; i <= count; i++) {
      int offset = offsets.getInt((long) i * VarCharVector.OFFSET_WIDTH);
      if (offset < previous) {
        require(false, vector, "offsets out of order at " + i);
      }
      previous = offset;
    }
    ArrowBuf data = vector.getDataBuffer();
    require(previous <= data.capacity(), vector, "offsets past its data buffer");
    long bits = 0;
    long at = first;
    for (; at + Long.BYTES <= previous; at += Long.BYTES) {
      bits |= data.getLong(at);
    }
    for (; at < previous; at++) {
      bits |= data.getByte(at); // sign-extended: a high bit shows as 0x80
    }
    if ((bits & 0x8080_8080_8080_8080L) == 0) {
      return;
    }
    for (int i = 0; i < count; i++) {
      long start = offsets.getInt((long) i * VarCharVector.OFFSET_WIDTH);
      long end = offsets.getInt((long) (i + 1) * VarCharVector.OFFSET_WIDTH);
      if (!vector.isNull(i) && !wellFormedUtf8(data, start, end)) {
        throw new ValidateUtil.ValidateException(
            "Column " + vector.getName() + ": value " + i + " is not well-formed UTF-8");
      }
    }
  }

  /**
   * Whether bytes {@code [start, end)} of {@code data} are well-formed UTF-8 as RFC 3629 defines
   * it: shortest forms only, no surrogates, nothing above U+10FFFF. Arrow Java's own check ({@code
   * validateScalars}) accepts some of those, which DuckDB then refuses while writing the Parquet
   * file (FuzzIT: INTERNAL "Invalid unicode (byte sequence mismatch)").
   */
  static boolean wellFormedUtf8(ArrowBuf data, long start, long end) {
    long at = start;
    while (at < end) {
      int lead = data.getByte(at) & 0xFF;
      if (lead < 0x80) {
        at++;
        continue;
      }
      int trailing;
      int low = 0x80; // the range of the byte after the lead (RFC 3629's table)
      int high = 0xBF;
      if (lead >= 0xC2 && lead <= 0xDF) {
        trailing = 1;
      } else if (lead >= 0xE0 && lead <= 0xEF) {
        trailing = 2;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
      } else if (lead >= 0xF0 && lead <= 0xF4) {
        trailing = 3;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
      } else {
        return false;
      }
      if (end - at <= trailing) {
        return false;
      }
      int next = data.getByte(at + 1) & 0xFF;
      if (next < low || next > high) {
        return false;
      }
      for (int k = 2; k <= trailing; k++) {
        if ((data.getByte(at + k) & 0xC0) != 0x80) {
          return false;
        }
      }
      at += trailing + 1;
    }
    return true;
  }

  private static boolean hasUnvalidatable(ValueVector vector) {
    if (vector instanceof MapVector
        || vector instanceof Float2Vector
        || vector instanceof DecimalVector
        || vector instanceof Decimal256Vector) {
      return true;
    }
    if (vector instanceof FieldVector field) {
      for (FieldVector child : field.getChildrenFromFields()) {
        if (hasUnvalidatable(child)) {
          return true;
        }
      }
    }
    return false;
  }

  private static void checkValidity(FieldVector vector) {
    int count = vector.getValueCount();
    require(count >= 0, vector, "negative value count");
    require(
        vector.getValidityBuffer().capacity() >= (count + 7L) / 8,
        vector,
        "validity buffer shorter than its value count");
  }

  private static void require(boolean condition, ValueVector vector, String problem) {
    if (!condition) {
      throw new ValidateUtil.ValidateException(
          "Column " + vector.getField().getName() + ": " + problem);
    }
  }

  /** The stream's current dictionaries, for the ids this reader's schema uses. */
  private Map<Long, Dictionary> streamDictionaries() throws IOException {
    Map<Long, Dictionary> theirs = new HashMap<>();
    for (long id : getDictionaryVectors().keySet()) {
      Dictionary dictionary = stream.getDictionaryProvider().lookup(id);
      if (dictionary == null) {
        throw new IOException("The stream sent no dictionary " + id + " before its batch");
      }
      theirs.put(id, dictionary);
    }
    return theirs;
  }

  private void copyDictionaries(Map<Long, Dictionary> theirs) throws IOException {
    for (Map.Entry<Long, Dictionary> e : getDictionaryVectors().entrySet()) {
      FieldVector source = theirs.get(e.getKey()).getVector();
      FieldVector target = e.getValue().getVector();
      target.clear();
      TransferPair pair = source.makeTransferPair(target);
      pair.splitAndTransfer(0, source.getValueCount());
    }
  }

  @Override
  public long bytesRead() {
    return 0;
  }

  @Override
  protected void closeReadSource() {
    // The FlightStream belongs to Flight, which closes it when the call ends.
  }

  /**
   * The stream's schema in message format (dictionary columns typed by their values): FlightStream
   * hands out its in-memory form, and ArrowReader converts what this returns to memory format
   * itself, so passing the in-memory form through would type the dictionaries by their indices.
   */
  @Override
  protected Schema readSchema() {
    return ArrowSchemas.messageFormat(stream.getSchema(), stream.getDictionaryProvider());
  }
}
