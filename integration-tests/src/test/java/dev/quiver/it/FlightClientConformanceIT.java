package dev.quiver.it;

import com.google.protobuf.Any;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverActions;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.TableRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.SyncPutListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * The conformance suite over the plain Arrow {@link FlightClient}: what any Flight client gets from
 * the wire contract, with Quiver's protobuf commands built by hand and JSON actions.
 */
class FlightClientConformanceIT extends BaseClientConformanceIT {
  FlightClientConformanceIT(QuiverServerProcess server) {
    super(server);
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return true; // the wire carries every behaviour; the error code rides in the metadata
  }

  @Override
  protected ConformanceClient connect(QuiverServerProcess server, BufferAllocator allocator) {
    return new PlainFlightClient(
        FlightClient.builder(allocator, server.location()).build(), allocator);
  }

  private record PlainFlightClient(FlightClient client, BufferAllocator allocator)
      implements ConformanceClient {
    @Override
    public PutReceipt append(TableId table, long first, long count) {
      return FlightTables.put(client, allocator, descriptor(table), first, count);
    }

    @Override
    public void appendWithMismatchedSchema(TableId table) {
      try (VectorSchemaRoot root =
              VectorSchemaRoot.create(FlightTables.mismatchedSchema(), allocator);
          SyncPutListener listener = new SyncPutListener()) {
        FlightTables.fillMismatched(root);
        FlightClient.ClientStreamListener stream =
            client.startPut(descriptor(table), root, listener);
        stream.putNext();
        stream.completed();
        stream.getResult();
      }
    }

    @Override
    public List<List<Object>> scan(TableId table) {
      return read(descriptor(table));
    }

    @Override
    public List<List<Object>> scanAt(TableId table, long snapshotId) {
      ScanCommand command =
          ScanCommand.newBuilder()
              .setTable(TableRef.newBuilder().setNamespace(table.namespace()).setName(table.name()))
              .setSnapshotId(snapshotId)
              .build();
      return read(FlightDescriptor.command(Any.pack(command).toByteArray()));
    }

    @Override
    public List<TableId> listTables(String namespace) {
      List<TableId> tables = new ArrayList<>();
      client
          .listFlights(new Criteria(namespace.getBytes(StandardCharsets.UTF_8)))
          .forEach(info -> tables.add(TableId.fromPath(info.getDescriptor().getPath())));
      return tables;
    }

    @Override
    public List<Long> snapshotIds(TableId table) {
      List<Long> ids = new ArrayList<>();
      FlightTables.listSnapshots(client, table.namespace(), table.name())
          .get("snapshots")
          .forEach(snapshot -> ids.add(snapshot.get("snapshot_id").asLong()));
      return ids;
    }

    @Override
    public void dropTable(TableId table) {
      FlightTables.action(
          client,
          QuiverActions.DROP_TABLE,
          Map.of("namespace", table.namespace(), "table", table.name()));
    }

    @Override
    public QuiverErrorCode errorCode(Throwable error) {
      if (error instanceof FlightRuntimeException flight) {
        return QuiverException.fromFlight(flight).code();
      }
      throw new AssertionError("Not a Flight error", error);
    }

    @Override
    public void close() throws InterruptedException {
      client.close();
    }

    private static FlightDescriptor descriptor(TableId table) {
      return FlightDescriptor.path(table.namespace(), table.name());
    }

    private List<List<Object>> read(FlightDescriptor descriptor) {
      try {
        return FlightTables.readAll(client, descriptor);
      } catch (FlightRuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("Cannot read " + descriptor, e);
      }
    }
  }
}
