package dev.quiver.server.flight.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A handler's close of a call that gRPC has already ended (a client cancel, a message over the size
 * limit) is dropped, so that gRPC's status reaches the client and the connection stays up.
 */
class TypedCallTest {
  private static final MethodDescriptor.Marshaller<InputStream> STREAM =
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
  private static final MethodDescriptor<InputStream, InputStream> METHOD =
      MethodDescriptor.<InputStream, InputStream>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName("test/DoPut")
          .setRequestMarshaller(STREAM)
          .setResponseMarshaller(STREAM)
          .build();

  /** A transport-side call that records what it is asked to close with. */
  private static final class RecordingCall extends ServerCall<InputStream, InputStream> {
    final List<Status.Code> closes = new ArrayList<>();
    boolean cancelled;

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(InputStream message) {}

    @Override
    public void close(Status status, Metadata trailers) {
      closes.add(status.getCode());
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public MethodDescriptor<InputStream, InputStream> getMethodDescriptor() {
      return METHOD;
    }
  }

  @Test
  void aCallStillOpenIsClosedWithTheHandlersStatus() {
    RecordingCall raw = new RecordingCall();
    Context.CancellableContext context = Context.current().withCancellation();
    new MalformedMessages.TypedCall<>(raw, METHOD, context)
        .close(Status.INVALID_ARGUMENT, new Metadata());
    assertThat(raw.closes).containsExactly(Status.Code.INVALID_ARGUMENT);
    context.close();
  }

  @Test
  void aCallWhoseContextGrpcCancelledIsNotClosedAgain() {
    RecordingCall raw = new RecordingCall();
    Context.CancellableContext context = Context.current().withCancellation();
    context.cancel(Status.RESOURCE_EXHAUSTED.asRuntimeException());
    new MalformedMessages.TypedCall<>(raw, METHOD, context.withValue(Context.key("k"), "v"))
        .close(Status.CANCELLED, new Metadata());
    assertThat(raw.closes).isEmpty();
  }

  @Test
  void aCallGrpcMarkedCancelledIsNotClosedAgain() {
    RecordingCall raw = new RecordingCall();
    raw.cancelled = true;
    new MalformedMessages.TypedCall<>(raw, METHOD, Context.ROOT)
        .close(Status.CANCELLED, new Metadata());
    assertThat(raw.closes).isEmpty();
  }
}
