package dev.quiver.server.telemetry;

import java.util.logging.Filter;
import java.util.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC's Netty server logs, at WARNING and with a 30-line stack, each stream a client reset while
 * the server still wrote to it ("Stream closed before write could take place"): what every client
 * that cancels a DoGet does. This turns those records into one DEBUG line and lets every other gRPC
 * record through untouched.
 */
public final class GrpcStreamErrors {
  static final String LOGGER = "io.grpc.netty.NettyServerHandler";
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(GrpcStreamErrors.class);

  // Held so that java.util.logging keeps the logger, and with it the filter.
  private static final Logger NETTY = Logger.getLogger(LOGGER);

  private GrpcStreamErrors() {}

  /** Installs the filter on gRPC's Netty server logger; harmless to call again. */
  public static void install() {
    Filter previous = NETTY.getFilter();
    if (previous instanceof ClientReset) {
      return;
    }
    NETTY.setFilter(new ClientReset(previous));
  }

  private static final class ClientReset implements Filter {
    private final Filter next;

    ClientReset(Filter next) {
      this.next = next;
    }

    @Override
    public boolean isLoggable(java.util.logging.LogRecord record) {
      Throwable thrown = record.getThrown();
      if (thrown != null
          && thrown.getClass().getName().endsWith("Http2Exception$StreamException")
          && String.valueOf(thrown.getMessage()).startsWith("Stream closed before write")) {
        LOG.debug(
            "A client reset its stream while the server wrote to it: {}", thrown.getMessage());
        return false;
      }
      return next == null || next.isLoggable(record);
    }
  }
}
