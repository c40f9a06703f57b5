package dev.quiver.client;

import java.io.IOException;
import java.util.List;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Reads a scan's endpoints one after another, in the server's order, on the caller's thread.
 *
 * <p>At most one DoGet stream is open; closing the reader midway cancels it.
 */
final class SequentialScanReader extends ScanReader {
  private FlightStream current;
  private int nextEndpoint;

  SequentialScanReader(
      BufferAllocator allocator,
      EndpointClients clients,
      TableId table,
      Schema schema,
      List<FlightEndpoint> endpoints,
      CallOption[] callOptions,
      TokenRenewal tokens) {
    super(allocator, clients, table, schema, endpoints, callOptions, tokens);
  }

  @Override
  public boolean loadNextBatch() throws IOException {
    prepareLoadNextBatch();
    try {
      while (true) {
        if (current == null) {
          if (nextEndpoint == endpointCount()) {
            return false;
          }
          current = open(nextEndpoint++);
        }
        if (current.next()) {
          load(new VectorUnloader(current.getRoot()).getRecordBatch());
          return true;
        }
        FlightStream finished = current;
        current = null;
        finished.close();
      }
    } catch (Exception e) {
      throw translate(e);
    }
  }

  @Override
  void closeStreams() throws Exception {
    FlightStream open = current;
    current = null;
    if (open != null) {
      // close() cancels a stream that has not ended, so the server stops sending.
      open.close();
    }
  }
}
