package dev.quiver.server.flight;

import java.util.List;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A one-column table of int64 ids for fault tests: puts of id ranges and a sum of ids to check that
 * exactly the committed ranges are there.
 */
public final class IdTable {
  public static final Schema SCHEMA =
      new Schema(List.of(Field.nullable("id", new ArrowType.Int(64, true))));

  private IdTable() {}

  /** Appends ids {@code [first, first + rows)} in batches of 10,000 and waits for the commit. */
  public static void put(
      FlightClient client, BufferAllocator allocator, FlightDescriptor table, long first, int rows)
      throws Exception {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
        SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(table, root, listener);
      for (int done = 0; done < rows; done += 10_000) {
        fill(root, first + done, Math.min(10_000, rows - done));
        stream.putNext();
      }
      stream.completed();
      stream.getResult();
      listener.read().close();
    }
  }

  /** Loads ids {@code [first, first + rows)} into {@code root}, which has {@link #SCHEMA}. */
  public static void fill(VectorSchemaRoot root, long first, int rows) {
    BigIntVector ids = (BigIntVector) root.getVector("id");
    ids.allocateNew(rows);
    for (int i = 0; i < rows; i++) {
      ids.set(i, first + i);
    }
    root.setRowCount(rows);
  }

  /** The sum of every id the table's current snapshot holds, read through every endpoint. */
  public static long sumOfIds(FlightClient client, FlightDescriptor table) throws Exception {
    long sum = 0;
    for (FlightEndpoint endpoint : client.getInfo(table).getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          BigIntVector ids = (BigIntVector) stream.getRoot().getVector("id");
          for (int i = 0; i < ids.getValueCount(); i++) {
            sum += ids.get(i);
          }
        }
      }
    }
    return sum;
  }

  /** 0 + 1 + ... + (n - 1). */
  public static long sum(long n) {
    return n * (n - 1) / 2;
  }
}
