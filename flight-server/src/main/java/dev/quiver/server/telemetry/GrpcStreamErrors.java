package dev.quiver.server.telemetry;

import dev.quiver.server.config.ServerConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.logging.Filter;
import java.util.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC's Netty server logs, at WARNING and with a 30-line stack, each stream a client reset while
 * the server still wrote to it ("Stream closed before write could take place"): what every client
 * that cancels a DoGet does. This turns those records into one DEBUG line and lets every other gRPC
 * record through untouched.
 *
 * <p>Likewise a message over {@code limits.max-message-size}, which gRPC refuses before the server
 * sees it (RESOURCE_EXHAUSTED to the client) and logs with a stack: one WARN line naming the key.
 */
public final class GrpcStreamErrors {
  static final String LOGGER = "io.grpc.netty.NettyServerHandler";
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(GrpcStreamErrors.class);

  static final String STREAM_LOGGER = "io.grpc.netty.NettyServerStream";

  // Held so that java.util.logging keeps the loggers, and with them the filters.
  private static final Logger NETTY = Logger.getLogger(LOGGER);
  private static final Logger STREAM = Logger.getLogger(STREAM_LOGGER);

  private GrpcStreamErrors() {}

  /** Installs the filters on gRPC's Netty server loggers; harmless to call again. */
  public static void install() {
    Filter previous = NETTY.getFilter();
    if (!(previous instanceof ClientReset)) {
      NETTY.setFilter(new ClientReset(previous));
    }
    Filter previousStream = STREAM.getFilter();
    if (!(previousStream instanceof OversizedMessage)) {
      STREAM.setFilter(new OversizedMessage(previousStream));
    }
  }

  private static final class OversizedMessage implements Filter {
    private final Filter next;

    OversizedMessage(Filter next) {
      this.next = next;
    }

    @Override
    public boolean isLoggable(java.util.logging.LogRecord record) {
      if (record.getThrown() instanceof StatusRuntimeException refused
          && refused.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED
          && String.valueOf(refused.getStatus().getDescription())
              .contains("exceeds maximum size")) {
        LOG.warn(
            "Refused a client message over {} ({}); the client must send smaller record batches"
                + " or the server raise the key",
            ServerConfig.MAX_MESSAGE_SIZE.name(),
            refused.getStatus().getDescription());
        return false;
      }
      return next == null || next.isLoggable(record);
    }
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
