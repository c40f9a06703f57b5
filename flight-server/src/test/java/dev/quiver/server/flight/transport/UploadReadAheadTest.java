package dev.quiver.server.flight.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The requests Flight makes for a DoPut's messages, as {@link UploadReadAhead} passes them on. */
class UploadReadAheadTest {
  @Test
  void flightsFiveAheadBecomeOneAheadOnceTheHandlerReads() {
    RecordingCall call = new RecordingCall();
    AtomicBoolean room = new AtomicBoolean(true);
    UploadReadAhead.Paced<Object, Object> paced = new UploadReadAhead.Paced<>(call, room::get);
    paced.request(1); // FlightService asks for the schema's message
    paced.request(5); // FlightStream, once the schema came
    assertThat(call.requests).containsExactly(1); // nothing ahead of a handler not reading yet
    paced.request(1); // the handler takes its first batch
    assertThat(call.requests).containsExactly(1, 2); // that batch and one ahead
    paced.request(1);
    assertThat(call.requests).containsExactly(1, 2, 1);
  }

  @Test
  void nothingIsReadAheadWhileMemoryIsShortButTheBatchTakenIsAlwaysAskedFor() {
    RecordingCall call = new RecordingCall();
    AtomicBoolean room = new AtomicBoolean(true);
    UploadReadAhead.Paced<Object, Object> paced = new UploadReadAhead.Paced<>(call, room::get);
    paced.request(1);
    paced.request(5);
    paced.request(1);
    assertThat(call.requests).containsExactly(1, 2); // batch 1 and batch 2 ahead
    room.set(false);
    paced.request(1); // takes batch 2: batch 3 is not asked for ahead...
    assertThat(call.requests).containsExactly(1, 2);
    paced.request(1); // ...until it is taken
    assertThat(call.requests).containsExactly(1, 2, 1);
    room.set(true);
    paced.request(1); // room again: the batch taken and one ahead
    assertThat(call.requests).containsExactly(1, 2, 1, 2);
  }

  /** A call that records what reaches gRPC. */
  private static final class RecordingCall extends ServerCall<Object, Object> {
    final List<Integer> requests = new ArrayList<>();

    @Override
    public void request(int numMessages) {
      requests.add(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(Object message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public Attributes getAttributes() {
      return Attributes.EMPTY;
    }

    @Override
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
      throw new UnsupportedOperationException();
    }
  }
}
