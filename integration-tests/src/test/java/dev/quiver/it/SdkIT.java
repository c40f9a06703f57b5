package dev.quiver.it;

import static dev.quiver.it.FlightTables.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.client.ClientOptions;
import dev.quiver.client.Filters;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverClient;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.ScanOptions;
import dev.quiver.client.ServerInfo;
import dev.quiver.client.SnapshotInfo;
import dev.quiver.client.TableId;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the Java SDK adds over the conformance suite ({@link SdkConformanceIT}): multi-batch puts,
 * pushed-down scans, parallel reads, metadata and errors raised before any call.
 */
@ExtendWith({QuiverServerExtension.class, ArrowAllocatorExtension.class})
class SdkIT {
  private final QuiverServerProcess server;
  private final String namespace = "sdk_" + UUID.randomUUID().toString().substring(0, 8);

  SdkIT(QuiverServerProcess server) {
    this.server = server;
  }

  @Test
  void putOfAReaderOfManyBatchesCommitsOnce(BufferAllocator allocator, TestInfo test)
      throws Exception {
    TableId table = table(test);
    try (QuiverClient client = connect(allocator);
        ArrowReader batches = streamOf(allocator, 0, 25_000, 1_000)) {
      PutReceipt receipt = client.put(table, batches);

      assertThat(receipt.rows()).isEqualTo(25_000);
      List<SnapshotInfo> snapshots = client.snapshots(table);
      assertThat(snapshots).hasSize(1);
      assertThat(snapshots.get(0).snapshotId()).isEqualTo(receipt.snapshotId());
      assertThat(snapshots.get(0).current()).isTrue();
      assertThat(snapshots.get(0).totalRecords()).isEqualTo(25_000);
      assertThat(FlightTables.readAll(client.scan(table))).isEqualTo(rows(0, 25_000));
    }
  }

  @Test
  void scanPushesColumnsFilterAndLimitToTheServer(BufferAllocator allocator, TestInfo test) {
    TableId table = table(test);
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, table, 0, 100);

      List<Long> filtered =
          ids(
              client.scan(
                  table,
                  ScanOptions.builder()
                      .columns("id")
                      .filter(Filters.and(Filters.ge("id", 90L), Filters.ne("id", 95L)))
                      .build()));
      List<Long> limited = ids(client.scan(table, ScanOptions.builder().limit(7).build()));

      assertThat(filtered).containsExactly(90L, 91L, 92L, 93L, 94L, 96L, 97L, 98L, 99L);
      assertThat(limited).hasSize(7).doesNotHaveDuplicates();
    }
  }

  @Test
  void parallelScanReadsEveryRowOnce(BufferAllocator allocator, TestInfo test) {
    TableId table = table(test);
    try (QuiverClient client = connect(allocator)) {
      for (long first = 0; first < 50_000; first += 10_000) {
        put(client, allocator, table, first, 10_000);
      }

      List<List<Object>> read =
          FlightTables.readAll(client.scan(table, ScanOptions.builder().parallelism(4).build()));

      assertThat(read).isEqualTo(rows(0, 50_000));
    }
  }

  @Test
  void schemaIsTheSchemaWritten(BufferAllocator allocator, TestInfo test) {
    TableId table = table(test);
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, table, 0, 1);

      List<Field> fields = client.schema(table).getFields();

      assertThat(fields).extracting(Field::getName).containsExactly("id", "name", "amount");
      assertThat(fields)
          .extracting(Field::getType)
          .containsExactlyElementsOf(
              FlightTables.SCHEMA.getFields().stream().map(Field::getType).toList());
    }
  }

  @Test
  void serverInfoDescribesTheServer(BufferAllocator allocator) {
    try (QuiverClient client = connect(allocator)) {
      ServerInfo info = client.serverInfo();

      assertThat(info.name()).isNotBlank();
      assertThat(info.version()).isNotBlank();
      assertThat(info.arrowVersion()).isNotBlank();
      assertThat(info.location()).contains(Integer.toString(server.port()));
    }
  }

  @Test
  void listTablesCoversEveryNamespace(BufferAllocator allocator, TestInfo test) {
    TableId first = table(test);
    TableId second = TableId.of(namespace + "_2", "other");
    try (QuiverClient client = connect(allocator)) {
      put(client, allocator, first, 0, 1);
      put(client, allocator, second, 0, 1);

      assertThat(client.listTables()).contains(first, second);
      assertThat(client.listTables(namespace + "_nothing_here")).isEmpty();
    }
  }

  @Test
  void invalidNamesFailBeforeAnyCall(BufferAllocator allocator) {
    try (QuiverClient client = connect(allocator)) {
      assertThatThrownBy(() -> TableId.of("bad namespace", "t"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_NAME))
          .hasMessageContaining("Invalid namespace 'bad namespace'");
      assertThatThrownBy(() -> client.listTables("no-dashes"))
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.INVALID_NAME))
          .hasMessageContaining("no-dashes");
    }
  }

  @Test
  void aServerThatIsNotThereIsUnavailable(BufferAllocator allocator) throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again below, so nothing listens there
    }
    try (QuiverClient client =
        QuiverClient.connect(
            Location.forGrpcInsecure("127.0.0.1", port),
            ClientOptions.builder().parentAllocator(allocator).build())) {
      assertThatThrownBy(client::listTables)
          .isInstanceOfSatisfying(
              QuiverException.class,
              e -> assertThat(e.code()).isEqualTo(QuiverErrorCode.UNAVAILABLE))
          .hasMessageMatching("(?is).*(refused|unavailable|connect|io exception).*");
    }
  }

  private QuiverClient connect(BufferAllocator allocator) {
    return QuiverClient.connect(
        server.location(), ClientOptions.builder().parentAllocator(allocator).build());
  }

  private TableId table(TestInfo test) {
    String method = test.getTestMethod().orElseThrow().getName();
    return TableId.of(namespace, method + "_" + UUID.randomUUID().toString().substring(0, 8));
  }

  private static void put(
      QuiverClient client, BufferAllocator allocator, TableId table, long first, long count) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator)) {
      FlightTables.fill(root, first, Math.toIntExact(count));
      client.put(table, root);
    }
  }

  /** The ids the reader yields, in id order; closes the reader. */
  private static List<Long> ids(ArrowReader reader) {
    List<Long> ids = new ArrayList<>();
    try (reader) {
      while (reader.loadNextBatch()) {
        BigIntVector vector = (BigIntVector) reader.getVectorSchemaRoot().getVector("id");
        for (int i = 0; i < vector.getValueCount(); i++) {
          ids.add(vector.get(i));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ids.sort(null);
    return ids;
  }

  /** An Arrow IPC stream of rows {@code [first, first + count)} in batches of {@code batchRows}. */
  private static ArrowReader streamOf(
      BufferAllocator allocator, long first, long count, int batchRows) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(FlightTables.SCHEMA, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, bytes)) {
      writer.start();
      for (long start = first; start < first + count; start += batchRows) {
        FlightTables.fill(root, start, (int) Math.min(batchRows, first + count - start));
        writer.writeBatch();
      }
      writer.end();
    }
    return new ArrowStreamReader(new ByteArrayInputStream(bytes.toByteArray()), allocator);
  }
}
