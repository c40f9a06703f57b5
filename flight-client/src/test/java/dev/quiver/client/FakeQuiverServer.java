package dev.quiver.client;

import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/** A {@link FakeQuiverProducer} served on 127.0.0.1 at a free port, with its own allocator. */
final class FakeQuiverServer implements AutoCloseable {
  private final BufferAllocator allocator;
  private final FakeQuiverProducer producer;
  private final FlightServer server;

  private FakeQuiverServer(
      BufferAllocator allocator, FakeQuiverProducer producer, FlightServer server) {
    this.allocator = allocator;
    this.producer = producer;
    this.server = server;
  }

  /** Starts a server whose tables each have {@code shares} endpoints. */
  static FakeQuiverServer start(BufferAllocator parent, int shares) throws Exception {
    BufferAllocator allocator = parent.newChildAllocator("fake-server", 0, Long.MAX_VALUE);
    FakeQuiverProducer producer = new FakeQuiverProducer(allocator, shares);
    try {
      FlightServer server =
          FlightServer.builder(allocator, Location.forGrpcInsecure("127.0.0.1", 0), producer)
              .build()
              .start();
      return new FakeQuiverServer(allocator, producer, server);
    } catch (Exception e) {
      AutoCloseables.close(e, producer, allocator);
      throw e;
    }
  }

  Location location() {
    return Location.forGrpcInsecure("127.0.0.1", server.getPort());
  }

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
