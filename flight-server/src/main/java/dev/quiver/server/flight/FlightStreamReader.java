package dev.quiver.server.flight;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.table.ArrowSchemas;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
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
    copyDictionaries();
    try (ArrowRecordBatch batch = new VectorUnloader(source).getRecordBatch()) {
      new VectorLoader(getVectorSchemaRoot()).load(batch);
    }
    validate();
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
   * ArrowToDuckDBConversion (found by FuzzIT). Costs one pass over offsets and validity.
   */
  private void validate() throws IOException {
    try {
      ValueVectorUtility.validateFull(getVectorSchemaRoot());
      for (Dictionary dictionary : getDictionaryVectors().values()) {
        ValueVectorUtility.validateFull(dictionary.getVector());
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

  private void copyDictionaries() throws IOException {
    Map<Long, Dictionary> mine = getDictionaryVectors();
    if (mine.isEmpty()) {
      return;
    }
    Map<Long, Dictionary> theirs = new HashMap<>();
    for (long id : mine.keySet()) {
      Dictionary dictionary = stream.getDictionaryProvider().lookup(id);
      if (dictionary == null) {
        throw new IOException("The stream sent no dictionary " + id + " before its batch");
      }
      theirs.put(id, dictionary);
    }
    for (Map.Entry<Long, Dictionary> e : mine.entrySet()) {
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
