package dev.quiver.server.flight;

import io.grpc.Attributes;
import io.grpc.BinaryLog;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.arrow.memory.OutOfMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers an incoming message that cannot be decoded with INVALID_ARGUMENT naming the problem,
 * instead of gRPC's UNKNOWN "Application error processing RPC", frees it, and ends the call's
 * handler.
 *
 * <p>A FlightData of a DoPut or DoExchange is decoded in two places, and a malformed one fails in
 * either: in the method's request marshaller (Flight's ArrowMessage marshaller parses the protobuf
 * and the IPC header), which gRPC runs before any interceptor sees the message; and in the
 * handler's {@code onMessage} (the stream's schema). In both cases gRPC closes the call as UNKNOWN
 * and tells the handler nothing, so a DoPut waiting for its next batch waited forever, holding its
 * admission and memory (found by FuzzIT). Two parts, installed together by {@link #install}:
 *
 * <ul>
 *   <li>{@link Guard} swaps each method's request marshaller for a pass-through one and runs the
 *       original marshaller itself, inside a try. gRPC offers one hook that may replace a method's
 *       definition per call, {@link BinaryLog#wrapMethodDefinition} (what its binary logging uses
 *       to see raw bytes); this is that hook, logging nothing. Messages are parsed on the same
 *       thread, from the same stream, as gRPC would, and responses are untouched.
 *   <li>{@link Interceptor}, a server interceptor that sits inside Flight's middleware, closes the
 *       call when either decode fails: through Flight's middleware, so the call's span and metrics
 *       see the status, and then tells the handler the call is over ({@code onCancel}).
 * </ul>
 *
 * The guard hands a marshalling failure to the interceptor of the same call through a {@link
 * Context} value.
 */
public final class MalformedMessages {
  private static final Logger LOG = LoggerFactory.getLogger(MalformedMessages.class);
  private static final Context.Key<Failures> FAILURES = Context.key("quiver-malformed-messages");

  private MalformedMessages() {}

  /**
   * Installs the guard and the interceptor on a server builder (Flight's builder consumer), and
   * {@link UploadStallTimeout} with {@code stallTimeout} (flight.put-stall-timeout).
   */
  public static void install(NettyServerBuilder builder, Duration stallTimeout) {
    builder
        .setBinaryLog(new Guard())
        .intercept(new Interceptor())
        .intercept(new UploadStallTimeout(stallTimeout));
  }

  /** RESOURCE_EXHAUSTED when decoding ran out of transport memory; else INVALID_ARGUMENT. */
  static Status status(String method, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryException) {
        return Status.RESOURCE_EXHAUSTED.withDescription(
            method
                + ": no Arrow memory to decode the incoming message (memory.transport-reserve): "
                + t.getMessage());
      }
    }
    return Status.INVALID_ARGUMENT.withDescription(
        method + ": the client sent a malformed Arrow IPC message: " + e);
  }

  /** Releases a message that will not be handed on (an ArrowMessage holds Arrow buffers). */
  static void close(Object message) {
    if (message instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception | AssertionError e) {
        // Flight had already released it: nothing more to free.
        LOG.debug("Releasing a malformed message failed", e);
      }
    }
  }

  /**
   * One call's link from the guard to the interceptor. Used on the call's serialized executor only.
   */
  private static final class Failures {
    private Consumer<Throwable> handler;
  }

  /** Parses requests itself so that a marshalling failure can be answered; see the class doc. */
  static final class Guard extends BinaryLog {
    private static final MethodDescriptor.Marshaller<InputStream> RAW =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(InputStream value) {
            return value;
          }

          @Override
          public InputStream parse(InputStream stream) {
            return stream;
          }
        };

    private final Map<MethodDescriptor<?, ?>, MethodDescriptor<InputStream, ?>> raw =
        new ConcurrentHashMap<>();

    @Override
    @SuppressWarnings("unchecked") // the cached descriptor was built from this one's RespT
    public <ReqT, RespT> ServerMethodDefinition<?, ?> wrapMethodDefinition(
        ServerMethodDefinition<ReqT, RespT> definition) {
      MethodDescriptor<ReqT, RespT> method = definition.getMethodDescriptor();
      MethodDescriptor<InputStream, RespT> rawMethod =
          (MethodDescriptor<InputStream, RespT>)
              raw.computeIfAbsent(
                  method, m -> method.toBuilder(RAW, method.getResponseMarshaller()).build());
      return ServerMethodDefinition.create(
          rawMethod, new Handler<>(method, definition.getServerCallHandler()));
    }

    @Override
    public Channel wrapChannel(Channel channel) {
      return channel;
    }

    @Override
    public void close() {}
  }

  private record Handler<ReqT, RespT>(
      MethodDescriptor<ReqT, RespT> method, ServerCallHandler<ReqT, RespT> next)
      implements ServerCallHandler<InputStream, RespT> {
    @Override
    public ServerCall.Listener<InputStream> startCall(
        ServerCall<InputStream, RespT> call, Metadata headers) {
      Failures failures = new Failures();
      ServerCall.Listener<ReqT> listener;
      Context previous = Context.current().withValue(FAILURES, failures).attach();
      try {
        listener = next.startCall(new TypedCall<>(call, method), headers);
      } finally {
        Context.current().detach(previous);
      }
      return new ParsingListener<>(listener, call, method, failures);
    }
  }

  /** Parses each request with the method's own marshaller; a failure fails the call. */
  private static final class ParsingListener<ReqT> extends ServerCall.Listener<InputStream> {
    private final ServerCall.Listener<ReqT> delegate;
    private final ServerCall<InputStream, ?> call;
    private final MethodDescriptor<ReqT, ?> method;
    private final Failures failures;
    private final boolean checkFlightData;
    private boolean failed;

    ParsingListener(
        ServerCall.Listener<ReqT> delegate,
        ServerCall<InputStream, ?> call,
        MethodDescriptor<ReqT, ?> method,
        Failures failures) {
      this.delegate = delegate;
      this.call = call;
      this.method = method;
      this.failures = failures;
      this.checkFlightData = FlightDataCheck.appliesTo(method);
    }

    @Override
    public void onMessage(InputStream message) {
      if (failed) {
        return; // gRPC closes the stream after this returns
      }
      ReqT request;
      try {
        if (checkFlightData) {
          FlightDataCheck.check(message);
        }
        request = method.parseRequest(message);
      } catch (RuntimeException e) {
        failed = true;
        if (failures.handler != null) {
          failures.handler.accept(e);
        } else {
          // No interceptor on this call: Flight's middleware refused it (and closed it) before
          // the interceptor was reached, or the interceptor is not installed.
          try {
            call.close(status(method.getBareMethodName(), e), new Metadata());
          } catch (IllegalStateException alreadyClosed) {
            // the refusal stands
          }
          delegate.onCancel();
        }
        return;
      }
      delegate.onMessage(request);
    }

    @Override
    public void onHalfClose() {
      if (!failed) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!failed) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      delegate.onComplete();
    }

    @Override
    public void onReady() {
      delegate.onReady();
    }
  }

  /** The raw call, typed as the handler expects it; everything is forwarded. */
  private static final class TypedCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    private final ServerCall<InputStream, RespT> delegate;
    private final MethodDescriptor<ReqT, RespT> method;

    TypedCall(ServerCall<InputStream, RespT> delegate, MethodDescriptor<ReqT, RespT> method) {
      this.delegate = delegate;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      delegate.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      delegate.sendHeaders(headers);
    }

    @Override
    public void sendMessage(RespT message) {
      delegate.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return delegate.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      delegate.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return delegate.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      delegate.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      delegate.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      delegate.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return delegate.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return delegate.getAttributes();
    }

    @Override
    public String getAuthority() {
      return delegate.getAuthority();
    }

    @Override
    public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
      return method;
    }
  }

  /**
   * Closes a call whose message could not be decoded, from inside Flight's middleware: for a
   * failure in the guard's parse, or in the handler's own {@code onMessage}.
   */
  static final class Interceptor implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Failures failures = FAILURES.get();
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        private boolean failed;

        {
          if (failures != null) {
            failures.handler = this::fail;
          }
        }

        private void fail(Throwable e) {
          failed = true;
          try {
            call.close(status(call.getMethodDescriptor().getBareMethodName(), e), new Metadata());
          } catch (IllegalStateException alreadyClosed) {
            // The handler had answered already (a refused put whose client kept sending).
          }
          super.onCancel();
        }

        @Override
        public void onMessage(ReqT message) {
          if (failed) {
            close(message);
            return;
          }
          try {
            super.onMessage(message);
          } catch (RuntimeException e) {
            close(message);
            fail(e);
          }
        }

        @Override
        public void onHalfClose() {
          if (!failed) {
            super.onHalfClose();
          }
        }

        @Override
        public void onCancel() {
          if (!failed) {
            super.onCancel();
          }
        }
      };
    }
  }
}
