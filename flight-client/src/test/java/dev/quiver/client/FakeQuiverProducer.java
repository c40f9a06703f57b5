package dev.quiver.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.quiver.proto.v1.ScanCommand;
import dev.quiver.proto.v1.ScanTicket;
import dev.quiver.proto.v1.TableRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.SchemaResult;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A hand-written, in-memory Quiver server for the SDK's tests. It keeps the wire contract (receipt
 * JSON, error metadata, several disjoint endpoints per table, the actions' JSON) and nothing else:
 * filters and limits are recorded, not applied; columns and snapshots are honoured.
 *
 * <p>DoGet streams on its own threads, honouring readiness and cancellation, so a blocked stream
 * never holds the gRPC call executor (see stack-spike section 3).
 */
final class FakeQuiverProducer extends NoOpFlightProducer implements AutoCloseable {
  static final Schema ENDLESS_SCHEMA =
      new Schema(List.of(Field.notNullable("n", new ArrowType.Int(64, true))));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STALL = Duration.ofSeconds(10);

  /** A committed snapshot: how many of the table's batches it sees. */
  private record Snapshot(
      long id, long parentId, long timestampMs, long added, long total, int batches) {}

  /** A table: its schema, its batches (owned roots) and its snapshots. */
  private static final class Table {
    final Schema schema;
    final List<VectorSchemaRoot> batches = new ArrayList<>();
    final List<Snapshot> snapshots = new ArrayList<>();

    Table(Schema schema) {
      this.schema = schema;
    }
  }

  private final BufferAllocator allocator;
  private final int shares;
  private final ExecutorService streamer = Executors.newCachedThreadPool();
  private final Map<TableId, Table> tables = new LinkedHashMap<>();
  private final Map<TableId, Integer> endless = new LinkedHashMap<>();
  private final List<FlightDescriptor> infoRequests = new CopyOnWriteArrayList<>();
  private final AtomicInteger startedStreams = new AtomicInteger();
  private final AtomicInteger cancelledStreams = new AtomicInteger();
  private final AtomicInteger completedStreams = new AtomicInteger();
  private final AtomicInteger failedPuts = new AtomicInteger();
  private final Map<ServerStreamListener, Long> blockedSince = new ConcurrentHashMap<>();
  private volatile FlightRuntimeException nextFailure;
  private volatile CountDownLatch putGate = new CountDownLatch(0);
  private volatile CountDownLatch actionGate = new CountDownLatch(0);
  private long nextSnapshotId = 1000;
  // Endpoint i names locations.get(i % size); an empty list names no location.
  private volatile List<List<Location>> endpointLocations = List.of();

  FakeQuiverProducer(BufferAllocator allocator, int shares) {
    this.allocator = allocator;
    this.shares = shares;
  }

  /** Makes endpoint i of later FlightInfos name {@code locations.get(i % size)}. */
  void routeEndpoints(List<List<Location>> locations) {
    this.endpointLocations = List.copyOf(locations);
  }

  /** Makes the next unary call (info, schema, list, action) fail with {@code failure}. */
  void failNextCall(FlightRuntimeException failure) {
    nextFailure = failure;
  }

  /** Adds a table whose every endpoint streams batches of {@code rows} rows until cancelled. */
  synchronized void addEndlessTable(TableId table, int rows) {
    endless.put(table, rows);
  }

  /** Makes DoPut hold off reading until {@link #resumePuts()}, so the client's stream fills. */
  void pausePuts() {
    putGate = new CountDownLatch(1);
  }

  void resumePuts() {
    putGate.countDown();
  }

  /** Makes DoAction wait until {@link #resumeActions()}, so a client deadline passes. */
  void pauseActions() {
    actionGate = new CountDownLatch(1);
  }

  void resumeActions() {
    actionGate.countDown();
  }

  /** The descriptors of every GetFlightInfo so far, oldest first. */
  List<FlightDescriptor> infoRequests() {
    return List.copyOf(infoRequests);
  }

  int startedStreams() {
    return startedStreams.get();
  }

  int cancelledStreams() {
    return cancelledStreams.get();
  }

  /**
   * DoGet streams that have waited at least {@code duration} without a break because the client
   * takes no more: backpressure, as opposed to the brief stalls of a busy but reading client.
   */
  int streamsBlockedFor(Duration duration) {
    long now = System.nanoTime();
    return (int)
        blockedSince.values().stream().filter(since -> now - since >= duration.toNanos()).count();
  }

  int completedStreams() {
    return completedStreams.get();
  }

  /** Puts that ended in an error (including a client cancel) and committed nothing. */
  int failedPuts() {
    return failedPuts.get();
  }

  synchronized boolean hasTable(TableId table) {
    return tables.containsKey(table);
  }

  @Override
  public Runnable acceptPut(
      CallContext context, FlightStream stream, StreamListener<PutResult> ackStream) {
    return () -> {
      List<VectorSchemaRoot> received = new ArrayList<>();
      try {
        if (!putGate.await(STALL.toSeconds(), TimeUnit.SECONDS)) {
          throw new IllegalStateException("Put gate never opened");
        }
        TableId table = TableId.fromPath(stream.getDescriptor().getPath());
        Schema schema = stream.getSchema();
        checkSchema(table, schema);
        while (stream.next()) {
          received.add(take(stream.getRoot()));
        }
        byte[] receipt = commit(table, schema, received).toJson();
        received.clear();
        try (ArrowBuf buffer = allocator.buffer(receipt.length)) {
          buffer.writeBytes(receipt);
          ackStream.onNext(PutResult.metadata(buffer));
        }
        ackStream.onCompleted();
      } catch (QuiverException e) {
        failedPuts.incrementAndGet();
        ackStream.onError(e.toFlight());
      } catch (Exception e) {
        failedPuts.incrementAndGet();
        ackStream.onError(
            CallStatus.INTERNAL.withCause(e).withDescription(e.toString()).toRuntimeException());
      } finally {
        closeAll(received);
      }
    };
  }

  private synchronized void checkSchema(TableId table, Schema schema) {
    Table existing = tables.get(table);
    if (existing != null && !existing.schema.equals(schema)) {
      throw new QuiverException(
          QuiverErrorCode.SCHEMA_MISMATCH,
          "Cannot append to table %s: the stream's schema %s is not the table's %s",
          table,
          schema,
          existing.schema);
    }
  }

  /** Moves a stream root's buffers into a root of this producer's allocator. */
  private VectorSchemaRoot take(VectorSchemaRoot source) {
    List<FieldVector> vectors = new ArrayList<>();
    for (FieldVector vector : source.getFieldVectors()) {
      FieldVector target = vector.getField().createVector(allocator);
      vector.makeTransferPair(target).transfer();
      vectors.add(target);
    }
    return new VectorSchemaRoot(source.getSchema().getFields(), vectors, source.getRowCount());
  }

  private synchronized PutReceipt commit(
      TableId table, Schema schema, List<VectorSchemaRoot> batches) {
    Table target = tables.computeIfAbsent(table, id -> new Table(schema));
    target.batches.addAll(batches);
    long rows = batches.stream().mapToLong(VectorSchemaRoot::getRowCount).sum();
    long bytes = 0;
    for (VectorSchemaRoot batch : batches) {
      try (ArrowRecordBatch unloaded = new VectorUnloader(batch).getRecordBatch()) {
        bytes += unloaded.computeBodyLength();
      }
    }
    Snapshot parent = target.snapshots.isEmpty() ? null : last(target.snapshots);
    Snapshot snapshot =
        new Snapshot(
            nextSnapshotId++,
            parent == null ? -1 : parent.id(),
            System.currentTimeMillis(),
            rows,
            (parent == null ? 0 : parent.total()) + rows,
            target.batches.size());
    target.snapshots.add(snapshot);
    return new PutReceipt(rows, bytes, batches.isEmpty() ? 0 : 1, snapshot.id());
  }

  @Override
  public synchronized FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
    failIfAsked();
    infoRequests.add(descriptor);
    try {
      ScanCommand command = command(descriptor);
      TableId table = TableId.of(command.getTable().getNamespace(), command.getTable().getName());
      if (endless.containsKey(table)) {
        return info(table, ENDLESS_SCHEMA, descriptor, ticket(command, 0), -1, -1);
      }
      Table data = table(table);
      Snapshot snapshot = snapshot(table, data, command);
      Schema schema = project(data.schema, command.getColumnsList());
      return info(table, schema, descriptor, ticket(command, snapshot.id()), snapshot.total(), -1);
    } catch (QuiverException e) {
      throw e.toFlight();
    }
  }

  private FlightInfo info(
      TableId table,
      Schema schema,
      FlightDescriptor descriptor,
      ScanTicket.Builder ticket,
      long rows,
      long bytes) {
    List<FlightEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < shares; i++) {
      ScanTicket share = ticket.setShareIndex(i).setShareCount(shares).build();
      List<List<Location>> routes = endpointLocations;
      Location[] locations =
          routes.isEmpty()
              ? new Location[0]
              : routes.get(i % routes.size()).toArray(new Location[0]);
      endpoints.add(new FlightEndpoint(new Ticket(share.toByteArray()), locations));
    }
    return new FlightInfo(schema, descriptor, endpoints, bytes, rows);
  }

  private static ScanCommand command(FlightDescriptor descriptor) {
    if (!descriptor.isCommand()) {
      TableId table = TableId.fromPath(descriptor.getPath());
      return ScanCommand.newBuilder()
          .setTable(TableRef.newBuilder().setNamespace(table.namespace()).setName(table.name()))
          .build();
    }
    try {
      return Any.parseFrom(descriptor.getCommand()).unpack(ScanCommand.class);
    } catch (InvalidProtocolBufferException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND, "Not a ScanCommand: %s", e.getMessage());
    }
  }

  private static ScanTicket.Builder ticket(ScanCommand command, long snapshotId) {
    ScanTicket.Builder ticket =
        ScanTicket.newBuilder()
            .setTable(command.getTable())
            .setSnapshotId(snapshotId)
            .addAllColumns(command.getColumnsList())
            .setFilter(command.getFilter());
    if (command.hasLimit()) {
      ticket.setLimit(command.getLimit());
    }
    return ticket;
  }

  @Override
  public synchronized SchemaResult getSchema(CallContext context, FlightDescriptor descriptor) {
    failIfAsked();
    try {
      return new SchemaResult(table(TableId.fromPath(descriptor.getPath())).schema);
    } catch (QuiverException e) {
      throw e.toFlight();
    }
  }

  @Override
  public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
    ScanTicket scan;
    try {
      scan = ScanTicket.parseFrom(ticket.getBytes());
    } catch (InvalidProtocolBufferException e) {
      listener.error(
          CallStatus.INVALID_ARGUMENT.withDescription("Bad ticket").toRuntimeException());
      return;
    }
    startedStreams.incrementAndGet();
    // Hand off: a blocked getStream would keep onReady and cancel callbacks from being delivered.
    streamer.execute(() -> stream(scan, listener));
  }

  private void stream(ScanTicket scan, ServerStreamListener listener) {
    TableId table = TableId.of(scan.getTable().getNamespace(), scan.getTable().getName());
    Integer endlessRows;
    synchronized (this) {
      endlessRows = endless.get(table);
    }
    try {
      boolean finished =
          endlessRows != null
              ? streamEndless(endlessRows, listener)
              : streamShare(table, scan, listener);
      if (finished) {
        listener.completed();
        completedStreams.incrementAndGet();
      } else {
        cancelledStreams.incrementAndGet();
      }
    } catch (QuiverException e) {
      listener.error(e.toFlight());
    } catch (RuntimeException e) {
      if (listener.isCancelled()) {
        cancelledStreams.incrementAndGet();
      } else {
        listener.error(
            CallStatus.INTERNAL.withCause(e).withDescription(e.toString()).toRuntimeException());
      }
    }
  }

  private boolean streamShare(TableId table, ScanTicket scan, ServerStreamListener listener) {
    List<ArrowRecordBatch> share = new ArrayList<>();
    Schema schema;
    synchronized (this) {
      Table data = table(table);
      schema = project(data.schema, scan.getColumnsList());
      int visible = snapshotBatches(data, scan.getSnapshotId());
      for (int i = scan.getShareIndex(); i < visible; i += scan.getShareCount()) {
        VectorSchemaRoot batch = data.batches.get(i);
        List<FieldVector> columns = new ArrayList<>();
        for (Field field : schema.getFields()) {
          columns.add(batch.getVector(field.getName()));
        }
        // A view over the stored vectors; only unloaded (retained), never closed.
        VectorSchemaRoot view =
            new VectorSchemaRoot(schema.getFields(), columns, batch.getRowCount());
        share.add(new VectorUnloader(view).getRecordBatch());
      }
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      listener.start(root);
      VectorLoader loader = new VectorLoader(root);
      for (ArrowRecordBatch batch : share) {
        if (!awaitReady(listener)) {
          return false;
        }
        loader.load(batch);
        listener.putNext();
      }
      return true;
    } finally {
      closeAll(share);
    }
  }

  private boolean streamEndless(int rows, ServerStreamListener listener) {
    try (VectorSchemaRoot root = VectorSchemaRoot.create(ENDLESS_SCHEMA, allocator)) {
      listener.start(root);
      BigIntVector n = (BigIntVector) root.getVector(0);
      for (long next = 0; ; ) {
        if (!awaitReady(listener)) {
          return false;
        }
        n.allocateNew(rows);
        for (int i = 0; i < rows; i++) {
          n.set(i, next++);
        }
        root.setRowCount(rows);
        listener.putNext();
      }
    }
  }

  /** Waits for the client to take more; false once it cancelled. */
  private boolean awaitReady(ServerStreamListener listener) {
    if (listener.isReady()) {
      return !listener.isCancelled();
    }
    blockedSince.put(listener, System.nanoTime());
    try {
      long deadline = System.nanoTime() + STALL.toNanos();
      while (!listener.isReady()) {
        if (listener.isCancelled()) {
          return false;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("Client stalled for " + STALL);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      return !listener.isCancelled();
    } finally {
      blockedSince.remove(listener);
    }
  }

  @Override
  public synchronized void listFlights(
      CallContext context, Criteria criteria, StreamListener<FlightInfo> listener) {
    try {
      failIfAsked();
    } catch (FlightRuntimeException e) {
      listener.onError(e);
      return;
    }
    String namespace =
        criteria.getExpression().length == 0
            ? null
            : new String(criteria.getExpression(), StandardCharsets.UTF_8);
    for (Map.Entry<TableId, Table> entry : tables.entrySet()) {
      TableId table = entry.getKey();
      if (namespace == null || namespace.equals(table.namespace())) {
        listener.onNext(
            new FlightInfo(
                entry.getValue().schema, FlightDescriptor.path(table.path()), List.of(), -1, -1));
      }
    }
    listener.onCompleted();
  }

  @Override
  public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
    try {
      // Outside the lock, so a paused action holds up nothing else.
      if (!actionGate.await(STALL.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("Action gate never opened");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      listener.onError(CallStatus.INTERNAL.withCause(e).toRuntimeException());
      return;
    }
    runAction(action, listener);
  }

  private synchronized void runAction(Action action, StreamListener<Result> listener) {
    try {
      failIfAsked();
      ObjectNode result = JSON.createObjectNode();
      switch (action.getType()) {
        case QuiverActions.DROP_TABLE -> {
          TableId table = tableOf(action.getBody());
          Table dropped = table(table);
          tables.remove(table);
          AutoCloseables.close(dropped.batches);
          result.put("dropped", table.toString());
        }
        case QuiverActions.LIST_SNAPSHOTS -> {
          TableId table = tableOf(action.getBody());
          Table data = table(table);
          result.put("table", table.toString());
          result.put("current_snapshot_id", last(data.snapshots).id());
          ArrayNode snapshots = result.putArray("snapshots");
          for (Snapshot snapshot : data.snapshots) {
            ObjectNode node = snapshots.addObject();
            node.put("snapshot_id", snapshot.id());
            if (snapshot.parentId() < 0) {
              node.putNull("parent_id");
            } else {
              node.put("parent_id", snapshot.parentId());
            }
            node.put("timestamp_ms", snapshot.timestampMs());
            node.put("operation", "append");
            node.put("added_records", snapshot.added());
            node.put("total_records", snapshot.total());
            node.put("added_files", 1);
          }
        }
        case QuiverActions.SERVER_INFO -> {
          result.put("name", "fake-quiver");
          result.put("version", "0.0-test");
          result.put("arrow_version", "18.3.0");
          result.put("java_version", Runtime.version().toString());
          result.put("location", "grpc://127.0.0.1");
          result.put("added_by_a_newer_server", true);
        }
        default ->
            throw new QuiverException(
                QuiverErrorCode.INVALID_ACTION, "Unknown action %s", action.getType());
      }
      listener.onNext(new Result(result.toString().getBytes(StandardCharsets.UTF_8)));
      listener.onCompleted();
    } catch (QuiverException e) {
      listener.onError(e.toFlight());
    } catch (FlightRuntimeException e) {
      listener.onError(e);
    } catch (Exception e) {
      listener.onError(
          CallStatus.INTERNAL.withCause(e).withDescription(e.toString()).toRuntimeException());
    }
  }

  private static TableId tableOf(byte[] body) throws IOException {
    JsonNode node = JSON.readTree(body);
    return TableId.of(node.path("namespace").asText(), node.path("table").asText());
  }

  private Table table(TableId table) {
    Table data = tables.get(table);
    if (data == null) {
      throw new QuiverException(QuiverErrorCode.TABLE_NOT_FOUND, "Table %s does not exist", table);
    }
    return data;
  }

  private static Snapshot snapshot(TableId table, Table data, ScanCommand command) {
    if (!command.hasSnapshotId()) {
      return last(data.snapshots);
    }
    for (Snapshot snapshot : data.snapshots) {
      if (snapshot.id() == command.getSnapshotId()) {
        return snapshot;
      }
    }
    throw new QuiverException(
        QuiverErrorCode.SNAPSHOT_NOT_FOUND,
        "Table %s has no snapshot %d",
        table,
        command.getSnapshotId());
  }

  private static int snapshotBatches(Table data, long snapshotId) {
    for (Snapshot snapshot : data.snapshots) {
      if (snapshot.id() == snapshotId) {
        return snapshot.batches();
      }
    }
    throw new QuiverException(QuiverErrorCode.INVALID_TICKET, "No snapshot %d", snapshotId);
  }

  private static Schema project(Schema schema, List<String> columns) {
    if (columns.isEmpty()) {
      return schema;
    }
    List<Field> fields = new ArrayList<>();
    for (String column : columns) {
      try {
        fields.add(schema.findField(column));
      } catch (IllegalArgumentException e) {
        throw new QuiverException(QuiverErrorCode.INVALID_ARGUMENT, "No column %s", column);
      }
    }
    return new Schema(fields);
  }

  private static <T> T last(List<T> list) {
    return list.get(list.size() - 1);
  }

  private void failIfAsked() {
    FlightRuntimeException failure = nextFailure;
    if (failure != null) {
      nextFailure = null;
      throw failure;
    }
  }

  private static void closeAll(List<? extends AutoCloseable> closeables) {
    try {
      AutoCloseables.close(closeables);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot free batches", e);
    }
  }

  @Override
  public void close() {
    // Not synchronized: stream threads take the lock, and they must finish first.
    streamer.shutdownNow();
    try {
      if (!streamer.awaitTermination(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("Fake streams did not stop");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while stopping fake streams", e);
    }
    List<AutoCloseable> batches = new ArrayList<>();
    synchronized (this) {
      tables.values().forEach(table -> batches.addAll(table.batches));
      tables.clear();
    }
    closeAll(batches);
  }
}
