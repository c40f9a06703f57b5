package dev.quiver.server.flight.transport;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
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
  private static final Context.Key<CallState> STATE = Context.key("quiver-malformed-messages");

  private MalformedMessages() {}

  /**
   * Installs the guard and the interceptor on a server builder (Flight's builder consumer), {@link
   * UploadReadAhead} with {@code roomToReadAhead}, and {@link UploadStallTimeout} with {@code
   * stallTimeout} (flight.put-stall-timeout), which sits outside it and so counts only the requests
   * that reach gRPC.
   */
  public static void install(
      NettyServerBuilder builder, Duration stallTimeout, BooleanSupplier roomToReadAhead) {
    builder
        .setBinaryLog(new Guard())
        .intercept(new Interceptor())
        .intercept(new UploadReadAhead(roomToReadAhead))
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
   * The upload signals of the call whose gRPC context is current ({@link UploadSignals#NONE}
   * outside a call served through {@link #install}). Read once, where the call enters Quiver, and
   * kept in the call's {@code QuiverCall}.
   *
   * <p>Flight's {@code FlightStream.getDescriptor()} waits for the first message with no end: a
   * stream that ends before it, or whose first message is refused, left the handler's thread
   * blocked there for good (found by FuzzIT as a hung DoPut). A handler asks the signals first.
   */
  public static UploadSignals signals() {
    CallState state = STATE.get();
    return state == null ? UploadSignals.NONE : state;
  }

  private static boolean await(CompletableFuture<Boolean> arrived) throws InterruptedException {
    try {
      return arrived.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e); // never completed exceptionally
    }
  }

  /**
   * One call's link from the guard to the interceptor (its failure handler, used on the call's
   * serialized executor only), and to the handler waiting for the stream's first message and
   * schema. Each future completes true when that message has been handed to Flight, false when the
   * stream ended without it.
   */
  private static final class CallState implements UploadSignals {
    private Consumer<Throwable> handler;
    // Set by the interceptor when it failed the call; read on the same serialized executor.
    private boolean failed;
    private final CompletableFuture<Boolean> firstMessage = new CompletableFuture<>();
    private final CompletableFuture<Boolean> schema = new CompletableFuture<>();

    @Override
    public boolean awaitFirstMessage() throws InterruptedException {
      return await(firstMessage);
    }

    @Override
    public boolean awaitSchema() throws InterruptedException {
      return await(schema);
    }

    /** The stream has ended, failed or been cancelled: what has not arrived never will. */
    void ended() {
      firstMessage.complete(false);
      schema.complete(false);
    }
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
      CallState state = new CallState();
      ServerCall.Listener<ReqT> listener;
      Context callContext = Context.current();
      Context previous = callContext.withValue(STATE, state).attach();
      try {
        listener = next.startCall(new TypedCall<>(call, method, callContext), headers);
      } finally {
        Context.current().detach(previous);
      }
      return new ParsingListener<>(listener, call, method, state);
    }
  }

  /** Parses each request with the method's own marshaller; a failure fails the call. */
  private static final class ParsingListener<ReqT> extends ServerCall.Listener<InputStream> {
    private final ServerCall.Listener<ReqT> delegate;
    private final ServerCall<InputStream, ?> call;
    private final MethodDescriptor<ReqT, ?> method;
    private final CallState state;
    private final FlightDataCheck check;
    private boolean failed;

    ParsingListener(
        ServerCall.Listener<ReqT> delegate,
        ServerCall<InputStream, ?> call,
        MethodDescriptor<ReqT, ?> method,
        CallState state) {
      this.delegate = delegate;
      this.call = call;
      this.method = method;
      this.state = state;
      this.check = FlightDataCheck.appliesTo(method) ? new FlightDataCheck() : null;
    }

    @Override
    public void onMessage(InputStream message) {
      if (failed) {
        return; // gRPC closes the stream after this returns
      }
      ReqT request;
      try {
        if (check != null) {
          check.check(message);
        }
        request = method.parseRequest(message);
      } catch (RuntimeException e) {
        failed = true;
        if (state.handler != null) {
          state.handler.accept(e);
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
        state.ended();
        return;
      }
      delegate.onMessage(request);
      if (state.failed) {
        // Flight threw on the message, maybe before it took the descriptor: it never will now.
        state.ended();
        return;
      }
      state.firstMessage.complete(true);
      if (check != null && check.hasSchema()) {
        state.schema.complete(true);
      }
    }

    @Override
    public void onHalfClose() {
      state.ended(); // no-op for what has arrived
      if (!failed) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      state.ended();
      if (!failed) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      state.ended();
      delegate.onComplete();
    }

    @Override
    public void onReady() {
      delegate.onReady();
    }
  }

  /**
   * The raw call, typed as the handler expects it; everything is forwarded but a close of a call
   * that gRPC has already ended.
   *
   * <p>gRPC ends a call itself, with no word to the handler first, when the client cancels, the
   * deadline passes or a message is over the size limit. The handler learns it from the call's
   * cancelled context and closes the call in turn, and that second close raced gRPC's own: sent
   * first, its status (CANCELLED) replaced gRPC's RESOURCE_EXHAUSTED for the client; sent after, on
   * a stream the client had not finished, Netty refused the second set of trailers and failed the
   * whole connection with every other call on it ("Stream 3 in unexpected state HALF_CLOSED_LOCAL";
   * grpc-java issue 11245). Such a close is dropped: gRPC's status is the one the client gets.
   */
  static final class TypedCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    private final ServerCall<InputStream, RespT> delegate;
    private final MethodDescriptor<ReqT, RespT> method;
    private final Context callContext;

    TypedCall(
        ServerCall<InputStream, RespT> delegate,
        MethodDescriptor<ReqT, RespT> method,
        Context callContext) {
      this.delegate = delegate;
      this.method = method;
      this.callContext = callContext;
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
      if (callContext.isCancelled() || delegate.isCancelled()) {
        LOG.debug(
            "{}: gRPC has ended the call already; not closing it again with {}",
            method.getBareMethodName(),
            status.getCode());
        return;
      }
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
      CallState state = STATE.get();
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        private boolean failed;

        {
          if (state != null) {
            state.handler = this::fail;
          }
        }

        private void fail(Throwable e) {
          failed = true;
          if (state != null) {
            state.failed = true;
          }
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
