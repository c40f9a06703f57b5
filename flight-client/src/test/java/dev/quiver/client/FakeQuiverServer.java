package dev.quiver.client;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/** A {@link FakeQuiverProducer} served on 127.0.0.1 at a free port, with its own allocator. */
final class FakeQuiverServer implements AutoCloseable {
  private final BufferAllocator allocator;
  private final FakeQuiverProducer producer;
  private final FlightServer server;
  private final List<String> traceparents;

  private FakeQuiverServer(
      BufferAllocator allocator,
      FakeQuiverProducer producer,
      FlightServer server,
      List<String> traceparents) {
    this.allocator = allocator;
    this.producer = producer;
    this.server = server;
    this.traceparents = traceparents;
  }

  /** Starts a server whose tables each have {@code shares} endpoints. */
  static FakeQuiverServer start(BufferAllocator parent, int shares) throws Exception {
    BufferAllocator allocator = parent.newChildAllocator("fake-server", 0, Long.MAX_VALUE);
    FakeQuiverProducer producer = new FakeQuiverProducer(allocator, shares);
    List<String> traceparents = new CopyOnWriteArrayList<>();
    FlightServerMiddleware.Factory<FlightServerMiddleware> recordTraceparent =
        (info, headers, context) -> {
          traceparents.add(
              headers.containsKey("traceparent") ? headers.get("traceparent") : "(none)");
          return NO_MIDDLEWARE;
        };
    try {
      FlightServer server =
          FlightServer.builder(allocator, Location.forGrpcInsecure("127.0.0.1", 0), producer)
              .middleware(FlightServerMiddleware.Key.of("traceparent"), recordTraceparent)
              .build()
              .start();
      return new FakeQuiverServer(allocator, producer, server, traceparents);
    } catch (Exception e) {
      AutoCloseables.close(e, producer, allocator);
      throw e;
    }
  }

  Location location() {
    return Location.forGrpcInsecure("127.0.0.1", server.getPort());
  }

  /** The traceparent header of every call so far, "(none)" for a call without one. */
  List<String> traceparents() {
    return List.copyOf(traceparents);
  }

  private static final FlightServerMiddleware NO_MIDDLEWARE =
      new FlightServerMiddleware() {
        @Override
        public void onBeforeSendingHeaders(CallHeaders outgoingHeaders) {}

        @Override
        public void onCallCompleted(CallStatus status) {}

        @Override
        public void onCallErrored(Throwable err) {}
      };

  FakeQuiverProducer producer() {
    return producer;
  }

  @Override
  public void close() {
    try {
      AutoCloseables.close(server, producer, allocator);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while stopping the fake server", e);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot stop the fake server", e);
    }
  }
}
