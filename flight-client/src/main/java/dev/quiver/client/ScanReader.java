package dev.quiver.client;

import java.util.List;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The common part of the scan readers: the announced schema, the reader's own allocator, opening an
 * endpoint's stream and turning failures into {@link QuiverException}s.
 *
 * <p>The reader owns {@code allocator} (a child of the client's) and closes it last, so a batch
 * left anywhere shows up as a leak at close rather than later.
 */
abstract class ScanReader extends ArrowReader {
  private final EndpointClients clients;
  private final TableId table;
  private final Schema schema;
  private final List<FlightEndpoint> endpoints;
  private final CallOption[] callOptions;
  private final TokenRenewal tokens;
  private long bytesRead;

  ScanReader(
      BufferAllocator allocator,
      EndpointClients clients,
      TableId table,
      Schema schema,
      List<FlightEndpoint> endpoints,
      CallOption[] callOptions,
      TokenRenewal tokens) {
    super(allocator);
    this.tokens = tokens;
    this.clients = clients;
    this.table = table;
    this.schema = schema;
    this.endpoints = List.copyOf(endpoints);
    this.callOptions = callOptions.clone();
  }

  final TableId table() {
    return table;
  }

  final int endpointCount() {
    return endpoints.size();
  }

  @Override
  protected final Schema readSchema() {
    return schema;
  }

  @Override
  public final long bytesRead() {
    return bytesRead;
  }

  /** Moves a batch into the reader's root and closes it. */
  final void load(ArrowRecordBatch batch) {
    bytesRead += batch.computeBodyLength();
    loadRecordBatch(batch);
  }

  /**
   * Opens endpoint {@code index} and checks it streams the announced layout; thread-safe. A stream
   * refused because the bearer token expired (after the scan was planned) is opened once more after
   * the client logs in again, when it has credentials.
   */
  final FlightStream open(int index) {
    String token = tokens.current();
    try {
      return openOnce(index);
    } catch (FlightRuntimeException e) {
      if (e.status().code() != FlightStatusCode.UNAUTHENTICATED || !tokens.possible()) {
        throw e;
      }
      tokens.renew(token);
      return openOnce(index);
    }
  }

  private FlightStream openOnce(int index) {
    FlightEndpoint endpoint = endpoints.get(index);
    FlightStream stream =
        clients.forEndpoint(endpoint).getStream(endpoint.getTicket(), callOptions);
    try {
      Schema streamed = stream.getSchema();
      if (!sameLayout(schema.getFields(), streamed.getFields())) {
        throw new QuiverException(
            QuiverErrorCode.INTERNAL,
            "Endpoint %d of the scan of %s streams %s but the server announced %s",
            index,
            table,
            streamed,
            schema);
      }
      return stream;
    } catch (RuntimeException e) {
      AutoCloseables.close(e, List.of(stream));
      throw e;
    }
  }

  /** Closes the streams and batches the subclass holds; runs before the allocator closes. */
  abstract void closeStreams() throws Exception;

  @Override
  protected final void closeReadSource() {
    try {
      AutoCloseables.close(this::closeStreams, allocator);
    } catch (Exception e) {
      throw translate(e);
    }
  }

  /** The Quiver error a failure while reading stands for. */
  final QuiverException translate(Throwable failure) {
    if (failure instanceof QuiverException quiver) {
      return quiver;
    }
    if (failure instanceof FlightRuntimeException flight) {
      return QuiverException.fromFlight(flight);
    }
    return new QuiverException(
        QuiverErrorCode.INTERNAL, failure, "Cannot read the scan of %s: %s", table, failure);
  }

  /** Whether two field lists load into the same vectors: names and metadata may differ. */
  private static boolean sameLayout(List<Field> expected, List<Field> actual) {
    if (expected.size() != actual.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      Field a = expected.get(i);
      Field b = actual.get(i);
      if (!a.getType().equals(b.getType()) || !sameLayout(a.getChildren(), b.getChildren())) {
        return false;
      }
    }
    return true;
  }
}
