package dev.quiver.benchmarks;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightGrpcUtils;
import org.apache.arrow.flight.FlightProducer;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.auth.ServerAuthHandler;
import org.apache.arrow.memory.BufferAllocator;

/** The gRPC transports a Flight service can be hosted on, as a benchmark parameter. */
public enum FlightTransport {
  /** Arrow's own FlightServer, on grpc-netty and the unshaded io.netty it depends on. */
  GRPC_NETTY {
    @Override
    Server start(BufferAllocator allocator, FlightProducer producer, ExecutorService executor)
        throws IOException {
      FlightServer server =
          FlightServer.builder(allocator, Location.forGrpcInsecure(HOST, 0), producer)
              .executor(executor)
              .build()
              .start();
      return new Server() {
        @Override
        public int port() {
          return server.getPort();
        }

        @Override
        public void close() {
          try {
            server.close(); // Graceful, then forced after a bounded wait.
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      };
    }
  },

  /** The Flight service from FlightGrpcUtils, added to a grpc-netty-shaded server. */
  GRPC_NETTY_SHADED {
    @Override
    @SuppressWarnings("deprecation") // FlightGrpcUtils takes only the old ServerAuthHandler.
    Server start(BufferAllocator allocator, FlightProducer producer, ExecutorService executor)
        throws IOException {
      io.grpc.Server server =
          io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                  new InetSocketAddress(HOST, 0))
              .addService(
                  FlightGrpcUtils.createFlightService(
                      allocator, producer, ServerAuthHandler.NO_OP, executor))
              // As FlightServer does: one Arrow batch is one gRPC message, of any size.
              .maxInboundMessageSize(Integer.MAX_VALUE)
              .build()
              .start();
      return new Server() {
        @Override
        public int port() {
          return server.getPort();
        }

        @Override
        public void close() {
          server.shutdown();
          try {
            if (!server.awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
              server.shutdownNow().awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
          }
        }
      };
    }
  };

  static final String HOST = "127.0.0.1";
  private static final long SHUTDOWN_SECONDS = 5;

  /** A running server on {@link #HOST}; close() shuts it down gracefully, then forcibly. */
  interface Server extends AutoCloseable {
    int port();

    @Override
    void close();
  }

  /** Starts {@code producer} on a free loopback port; the caller closes the server. */
  abstract Server start(
      BufferAllocator allocator, FlightProducer producer, ExecutorService executor)
      throws IOException;

  /** The transport a JMH parameter names: grpc-netty or grpc-netty-shaded. */
  public static FlightTransport fromName(String name) {
    return valueOf(name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
  }
}
