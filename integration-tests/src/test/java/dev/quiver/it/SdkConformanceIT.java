package dev.quiver.it;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/** The conformance suite over the Java SDK, {@link QuiverClient}. */
class SdkConformanceIT extends BaseClientConformanceIT {
  SdkConformanceIT(QuiverServerProcess server) {
    super(server);
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return true;
  }

  @Override
  protected ConformanceClient connect(QuiverServerProcess server, BufferAllocator allocator) {
    QuiverClient client =
        QuiverClient.connect(
            server.location(), ClientOptions.builder().parentAllocator(allocator).build());
    return new SdkClient(client, allocator);
  }

  private record SdkClient(QuiverClient client, BufferAllocator allocator)
      implements ConformanceClient {
    @Override
    public PutReceipt append(TableId table, long first, long count) {
      try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator)) {
        FlightTables.fill(root, first, Math.toIntExact(count));
        return client.put(table, root);
      }
    }

    @Override
    public void appendWithMismatchedSchema(TableId table) {
      try (VectorSchemaRoot root =
          VectorSchemaRoot.create(FlightTables.mismatchedSchema(), allocator)) {
        FlightTables.fillMismatched(root);
        client.put(table, root);
      }
    }

    @Override
    public List<List<Object>> scan(TableId table) {
      return FlightTables.readAll(client.scan(table));
    }

    @Override
    public List<List<Object>> scanAt(TableId table, long snapshotId) {
      return FlightTables.readAll(
          client.scan(table, ScanOptions.builder().snapshotId(snapshotId).build()));
    }

    @Override
    public List<TableId> listTables(String namespace) {
      return client.listTables(namespace);
    }

    @Override
    public List<Long> snapshotIds(TableId table) {
      return client.snapshots(table).stream().map(SnapshotInfo::snapshotId).toList();
    }

    @Override
    public void dropTable(TableId table) {
      client.dropTable(table);
    }

    @Override
    public QuiverErrorCode errorCode(Throwable error) {
      if (error instanceof QuiverException quiver) {
        return quiver.code();
      }
      throw new AssertionError("The SDK threw something other than a QuiverException", error);
    }

    @Override
    public void close() {
      client.close();
    }
  }
}
