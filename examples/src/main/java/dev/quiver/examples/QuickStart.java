package dev.quiver.examples;

import dev.quiver.client.Filters;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.TableId;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/** Puts three cities into demo.cities, reads back those with id > 1 and lists the snapshots. */
public final class QuickStart {
  public static void main(String[] args) throws Exception {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 8815;
    Schema schema =
        new Schema(
            List.of(
                Field.nullable("id", new ArrowType.Int(64, true)),
                Field.nullable("name", ArrowType.Utf8.INSTANCE)));
    try (BufferAllocator allocator = new RootAllocator();
        QuiverClient client = QuiverClient.connect(Location.forGrpcInsecure(host, port));
        VectorSchemaRoot batch = VectorSchemaRoot.create(schema, allocator)) {
      String[] cities = {"Oslo", "Lima", "Pune"};
      batch.allocateNew();
      for (int i = 0; i < cities.length; i++) {
        ((BigIntVector) batch.getVector("id")).setSafe(i, i + 1);
        ((VarCharVector) batch.getVector("name"))
            .setSafe(i, cities[i].getBytes(StandardCharsets.UTF_8));
      }
      batch.setRowCount(cities.length);

      TableId table = TableId.of("demo", "cities");
      PutReceipt receipt = client.put(table, batch);
      System.out.println("Put " + receipt.rows() + " rows in snapshot " + receipt.snapshotId());

      ScanOptions options =
          ScanOptions.builder().columns("id", "name").filter(Filters.gt("id", 1)).build();
      try (ArrowReader reader = client.scan(table, options)) {
        while (reader.loadNextBatch()) {
          System.out.print(reader.getVectorSchemaRoot().contentToTSVString());
        }
      }
      client.snapshots(table).forEach(System.out::println);
    }
  }
}
