package dev.quiver.server.flight.transport;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.function.BooleanSupplier;
import org.apache.arrow.flight.impl.FlightServiceGrpc;

/**
 * Lets a DoPut decode at most one message ahead of the batch its handler is writing, and none while
 * Arrow memory is short, instead of the five Flight asks gRPC for: messages not asked for stay in
 * the client's socket, held back by HTTP/2 flow control, rather than in Arrow memory.
 *
 * <p>Arrow Java 18.3's {@code FlightStream} keeps five messages requested beyond those its reader
 * has taken ({@code FlightService.PENDING_REQUESTS}, not configurable): a put of 5 MB batches held
 * 30 MB of decoded batches however slowly it wrote them, which under a 64 MB memory.total exhausted
 * Arrow's 32 MB (issue 18). This interceptor sits between Flight and gRPC and passes on the first
 * request (the schema's) and then Flight's requests less a constant hold, so the count of messages
 * asked for and not yet taken stays at one (zero before the handler takes its first batch, and
 * while {@code roomToReadAhead} says no). Each request Flight makes when its reader takes a message
 * still reaches gRPC, so the message the reader waits for is always asked for. {@link
 * UploadStallTimeout} sits outside this and counts only what reached gRPC.
 */
@ThreadSafe
final class UploadReadAhead implements ServerInterceptor {
  /** What FlightStream asks for beyond what its reader took (Arrow Java 18.3). */
  static final int FLIGHT_AHEAD = 5;

  private final BooleanSupplier roomToReadAhead;

  /**
   * @param roomToReadAhead whether there is Arrow memory to decode one message ahead now
   */
  UploadReadAhead(BooleanSupplier roomToReadAhead) {
    this.roomToReadAhead = roomToReadAhead;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!call.getMethodDescriptor()
        .getFullMethodName()
        .equals(FlightServiceGrpc.getDoPutMethod().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    return next.startCall(new Paced<>(call, roomToReadAhead), headers);
  }

  /** One DoPut's requests, as Flight makes them and as they reach gRPC. */
  static final class Paced<ReqT, RespT> extends SimpleForwardingServerCall<ReqT, RespT> {
    private final BooleanSupplier roomToReadAhead;

    @GuardedBy("this")
    private boolean schemaAsked;

    // Messages after the schema's that Flight asked for, and that were passed on to gRPC.
    @GuardedBy("this")
    private long wanted;

    @GuardedBy("this")
    private long passed;

    Paced(ServerCall<ReqT, RespT> call, BooleanSupplier roomToReadAhead) {
      super(call);
      this.roomToReadAhead = roomToReadAhead;
    }

    @Override
    public synchronized void request(int numMessages) {
      if (!schemaAsked) {
        schemaAsked = true;
        super.request(numMessages);
        return;
      }
      wanted += numMessages;
      // Nothing ahead before the handler takes its first batch: a put waiting for its turn (of
      // admission or of the writer) then holds no batch that the puts ahead of it need room for.
      boolean started = wanted > FLIGHT_AHEAD;
      long ahead = started && roomToReadAhead.getAsBoolean() ? 1 : 0;
      long target = wanted - (FLIGHT_AHEAD - ahead);
      if (target > passed) {
        super.request((int) (target - passed));
        passed = target;
      }
    }
  }
}
