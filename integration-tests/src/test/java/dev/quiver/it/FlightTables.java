package dev.quiver.it;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverActions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Puts and reads a small test table through the plain Arrow {@link FlightClient}, with no Quiver
 * SDK: what any Flight client can do against the wire contract.
 *
 * <p>The table has three columns, {@code id} (int64, not null), {@code name} (utf8) and {@code
 * amount} (float64); row {@code i} is fully determined by {@code i} (see {@link #row}), with a null
 * name every seventh row and a null amount every fifth, so a read can be checked against ids alone.
 */
final class FlightTables {
  static final Schema SCHEMA =
      new Schema(
          List.of(
              new Field("id", FieldType.notNullable(new ArrowType.Int(64, true)), null),
              Field.nullable("name", ArrowType.Utf8.INSTANCE),
              Field.nullable(
                  "amount", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))));

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BATCH_ROWS = 4096;

  private FlightTables() {}

  /** The expected values of row {@code id}: id, name (or null), amount (or null). */
  static List<Object> row(long id) {
    List<Object> row = new ArrayList<>(3);
    row.add(id);
    row.add(id % 7 == 0 ? null : "name-" + id);
    row.add(id % 5 == 0 ? null : id * 0.25);
    return row;
  }

  /** The expected rows with ids {@code [first, first + count)}. */
  static List<List<Object>> rows(long first, long count) {
    List<List<Object>> rows = new ArrayList<>();
    for (long id = first; id < first + count; id++) {
      rows.add(row(id));
    }
    return rows;
  }

  /**
   * Appends rows {@code [first, first + count)} to the table with one DoPut; returns its receipt.
   */
  static PutReceipt put(
      FlightClient client,
      BufferAllocator allocator,
      FlightDescriptor table,
      long first,
      long count) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
      return put(
          client,
          table,
          root,
          stream -> {
            for (long start = first; start < first + count; start += BATCH_ROWS) {
              fill(root, start, (int) Math.min(BATCH_ROWS, first + count - start));
              stream.putNext();
            }
          });
    }
  }

  /** Appends what {@code batches} sends of {@code root} with one DoPut; returns its receipt. */
  static PutReceipt put(
      FlightClient client,
      FlightDescriptor table,
      VectorSchemaRoot root,
      java.util.function.Consumer<FlightClient.ClientStreamListener> batches) {
    try (SyncPutListener listener = new SyncPutListener()) {
      FlightClient.ClientStreamListener stream = client.startPut(table, root, listener);
      batches.accept(stream);
      stream.completed();
      stream.getResult();
      try (PutResult result = requireNonNull(listener.read(), "DoPut sent no PutResult")) {
        ArrowBuf metadata = result.getApplicationMetadata();
        byte[] json = new byte[(int) metadata.readableBytes()];
        metadata.getBytes(0, json);
        return PutReceipt.fromJson(json);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while reading the put result", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("DoPut failed after completing", e.getCause());
    }
  }

  /** Loads rows {@code [first, first + count)} into {@code root}, which has {@link #SCHEMA}. */
  static void fill(VectorSchemaRoot root, long first, int count) {
    BigIntVector ids = (BigIntVector) root.getVector("id");
    VarCharVector names = (VarCharVector) root.getVector("name");
    Float8Vector amounts = (Float8Vector) root.getVector("amount");
    root.allocateNew();
    for (int i = 0; i < count; i++) {
      List<Object> row = row(first + i);
      ids.setSafe(i, (Long) row.get(0));
      if (row.get(1) == null) {
        names.setNull(i);
      } else {
        names.setSafe(i, ((String) row.get(1)).getBytes(StandardCharsets.UTF_8));
      }
      if (row.get(2) == null) {
        amounts.setNull(i);
      } else {
        amounts.setSafe(i, (Double) row.get(2));
      }
    }
    root.setRowCount(count);
  }

  /** Every row of every endpoint of GetFlightInfo(table), in id order. */
  static List<List<Object>> readAll(FlightClient client, FlightDescriptor table) throws Exception {
    FlightInfo info = client.getInfo(table);
    List<List<Object>> rows = new ArrayList<>();
    for (FlightEndpoint endpoint : info.getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          rows.addAll(values(stream.getRoot()));
        }
      }
    }
    rows.sort(Comparator.comparingLong(row -> (Long) row.get(0)));
    return rows;
  }

  /** Every row the reader yields (it has {@link #SCHEMA}), in id order; closes the reader. */
  static List<List<Object>> readAll(ArrowReader reader) {
    List<List<Object>> rows = new ArrayList<>();
    try (reader) {
      while (reader.loadNextBatch()) {
        rows.addAll(values(reader.getVectorSchemaRoot()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    rows.sort(Comparator.comparingLong(row -> (Long) row.get(0)));
    return rows;
  }

  /** The rows of {@code root}, which has {@link #SCHEMA}, as {@link #row} gives them. */
  static List<List<Object>> values(VectorSchemaRoot root) {
    List<List<Object>> rows = new ArrayList<>(root.getRowCount());
    for (int i = 0; i < root.getRowCount(); i++) {
      List<Object> row = new ArrayList<>(3);
      row.add(root.getVector("id").getObject(i));
      Object name = root.getVector("name").getObject(i);
      row.add(name == null ? null : name.toString());
      row.add(root.getVector("amount").getObject(i));
      rows.add(row);
    }
    return rows;
  }

  /** A schema like {@link #SCHEMA} but with {@code name} as int32, which no table here accepts. */
  static Schema mismatchedSchema() {
    return new Schema(
        List.of(
            SCHEMA.getFields().get(0),
            Field.nullable("name", new ArrowType.Int(32, true)),
            SCHEMA.getFields().get(2)));
  }

  /** Loads one row of {@link #mismatchedSchema()} into {@code root}. */
  static void fillMismatched(VectorSchemaRoot root) {
    root.allocateNew();
    ((BigIntVector) root.getVector("id")).setSafe(0, 1);
    ((IntVector) root.getVector("name")).setSafe(0, 7);
    root.setRowCount(1);
  }

  /**
   * The server's memory report once no call holds Arrow memory or is open, or the last report at
   * {@code timeout}: callers assert on what it shows.
   */
  static JsonNode awaitIdle(FlightClient client, Duration timeout) throws InterruptedException {
    return awaitIdle(client, 0, timeout);
  }

  /**
   * The server's memory report once no call is open and at most {@code allocated} bytes of Arrow
   * memory are held, or the last report at {@code timeout}.
   */
  static JsonNode awaitIdle(FlightClient client, long allocated, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode report = action(client, QuiverActions.MEMORY_REPORT, Map.of());
      boolean idle = report.get("allocated").asLong() <= allocated && report.get("calls").isEmpty();
      if (idle || System.nanoTime() > deadline) {
        return report;
      }
      TimeUnit.MILLISECONDS.sleep(50); // poll interval; the deadline bounds the wait
    }
  }

  /** Runs a DoAction with a JSON body and returns its single JSON result. */
  static JsonNode action(FlightClient client, String type, Map<String, ?> body) {
    try {
      byte[] payload = body.isEmpty() ? new byte[0] : JSON.writeValueAsBytes(body);
      Iterator<Result> results = client.doAction(new Action(type, payload));
      JsonNode result = JSON.readTree(results.next().getBody());
      while (results.hasNext()) {
        results.next();
      }
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The tables ListFlights lists in {@code namespace}, as {@code ns.name}. */
  static List<String> tables(FlightClient client, String namespace) {
    List<String> names = new ArrayList<>();
    client
        .listFlights(
            new org.apache.arrow.flight.Criteria(namespace.getBytes(StandardCharsets.UTF_8)))
        .forEach(info -> names.add(String.join(".", info.getDescriptor().getPath())));
    return names;
  }

  /** The list-snapshots result for namespace.name. */
  static JsonNode listSnapshots(FlightClient client, String namespace, String name) {
    return action(
        client, QuiverActions.LIST_SNAPSHOTS, Map.of("namespace", namespace, "table", name));
  }
}
