package dev.quiver.server.telemetry;

import dev.quiver.server.config.ServerConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.Predicate;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
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
    if (!(NETTY.getFilter() instanceof Replacing)) {
      NETTY.setFilter(new Replacing(NETTY.getFilter(), GrpcStreamErrors::clientReset));
    }
    if (!(STREAM.getFilter() instanceof Replacing)) {
      STREAM.setFilter(new Replacing(STREAM.getFilter(), GrpcStreamErrors::oversizedMessage));
    }
  }

  /** A client reset its stream: one DEBUG line instead. */
  private static boolean clientReset(LogRecord record) {
    Throwable thrown = record.getThrown();
    if (thrown != null
        && thrown.getClass().getName().endsWith("Http2Exception$StreamException")
        && String.valueOf(thrown.getMessage()).startsWith("Stream closed before write")) {
      LOG.debug("A client reset its stream while the server wrote to it: {}", thrown.getMessage());
      return true;
    }
    return false;
  }

  /** gRPC refused a message over the limit: one WARN line naming the key instead. */
  private static boolean oversizedMessage(LogRecord record) {
    if (record.getThrown() instanceof StatusRuntimeException refused
        && refused.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED
        && String.valueOf(refused.getStatus().getDescription()).contains("exceeds maximum size")) {
      LOG.warn(
          "Refused a client message over {} ({}); the client must send smaller record batches"
              + " or the server raise the key",
          ServerConfig.MAX_MESSAGE_SIZE.name(),
          refused.getStatus().getDescription());
      return true;
    }
    return false;
  }

  /** Drops the records {@code replaced} logged its own way; passes the rest on. */
  private static final class Replacing implements Filter {
    private final Filter next;
    private final Predicate<LogRecord> replaced;

    Replacing(Filter next, Predicate<LogRecord> replaced) {
      this.next = next;
      this.replaced = replaced;
    }

    @Override
    public boolean isLoggable(LogRecord record) {
      if (replaced.test(record)) {
        return false;
      }
      return next == null || next.isLoggable(record);
    }
  }
}
