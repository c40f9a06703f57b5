package dev.quiver.server.flight;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.apache.arrow.memory.OutOfMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an incoming message that Flight cannot decode into INVALID_ARGUMENT instead of gRPC's
 * UNKNOWN "Application error processing RPC", and frees it.
 *
 * <p>Flight decodes each FlightData of a DoPut or DoExchange (the IPC schema, dictionary or batch
 * header) inside gRPC's {@code onMessage}. A malformed one throws there; gRPC then cancels the call
 * as UNKNOWN, and the message's buffers, which Flight had not yet taken over, were never released
 * (found by FuzzIT: the transport allocator kept them). Here the exception is caught, the message
 * closed, the call closed with INVALID_ARGUMENT naming the problem, and the handler told the call
 * is over ({@code onCancel}), so a DoPut waiting for the next batch ends too.
 */
final class MalformedMessageInterceptor implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(MalformedMessageInterceptor.class);

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      private boolean failed;

      @Override
      public void onMessage(ReqT message) {
        if (failed) {
          close(message);
          return;
        }
        try {
          super.onMessage(message);
        } catch (RuntimeException e) {
          failed = true;
          close(message);
          String method = call.getMethodDescriptor().getBareMethodName();
          call.close(status(method, e), new Metadata());
          super.onCancel();
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

  private static void close(Object message) {
    if (message instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception | AssertionError e) {
        // Flight had already released it: nothing more to free.
        LOG.debug("Releasing a malformed message failed", e);
      }
    }
  }
}
