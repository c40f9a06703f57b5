package dev.quiver.server.flight.transport;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.grpc.StatusUtils;

/**
 * Fails a DoPut (or DoExchange) whose client stops sending: when the server has asked for the next
 * message and none has come for {@code flight.put-stall-timeout}, the call is closed
 * DEADLINE_EXCEEDED (TIMED_OUT) naming the key, and the handler is told the call is over, so the
 * put commits nothing, deletes what it staged and gives back its admission and memory.
 *
 * <p>Only time the server spends waiting for the client counts: gRPC's inbound flow control is
 * manual for these calls (Flight asks for messages as the put consumes them), so while the put is
 * busy (writing, waiting for admission, committing after the client finished) nothing is asked for
 * and the clock does not run. A client that keeps its connection open but sends nothing is caught
 * here; a peer that vanished without closing its connection is caught sooner or later by this too,
 * and by gRPC keepalive where configured.
 *
 * <p>Listener callbacks arrive on the call's serialized executor; the timer's check runs on a timer
 * thread, so both lock the call's {@link Watch}. One daemon timer thread serves every server in the
 * JVM; a check is a few field reads, at most one per call per timeout.
 */
final class UploadStallTimeout implements ServerInterceptor {
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "quiver-upload-stall-timer");
            t.setDaemon(true);
            return t;
          });

  private final long timeoutNanos;

  UploadStallTimeout(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!FlightDataCheck.appliesTo(call.getMethodDescriptor())) {
      return next.startCall(call, headers);
    }
    Watch watch = new Watch(call);
    ServerCall<ReqT, RespT> counted =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void request(int numMessages) {
            watch.requested(numMessages);
            super.request(numMessages);
          }
        };
    ServerCall.Listener<ReqT> listener = next.startCall(counted, headers);
    watch.listener = listener;
    watch.schedule(timeoutNanos);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        synchronized (watch) {
          if (watch.timedOut) {
            MalformedMessages.close(message);
            return;
          }
          watch.received();
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        synchronized (watch) {
          if (watch.timedOut) {
            return;
          }
          watch.over = true;
        }
        super.onHalfClose();
      }

      @Override
      public void onCancel() {
        synchronized (watch) {
          if (watch.timedOut) {
            return;
          }
          watch.over = true;
        }
        super.onCancel();
      }

      @Override
      public void onComplete() {
        synchronized (watch) {
          watch.over = true;
        }
        super.onComplete();
      }
    };
  }

  /** One call's clock: messages asked for and not yet received, and when it last moved. */
  private final class Watch {
    private final ServerCall<?, ?> call;
    private ServerCall.Listener<?> listener;
    private int outstanding;
    private long lastProgress = System.nanoTime();
    private boolean over;
    private boolean timedOut;

    Watch(ServerCall<?, ?> call) {
      this.call = call;
    }

    synchronized void requested(int messages) {
      if (outstanding == 0) {
        lastProgress = System.nanoTime(); // the wait for the client starts now
      }
      outstanding += messages;
    }

    /** Called under the lock. */
    void received() {
      outstanding = Math.max(0, outstanding - 1);
      lastProgress = System.nanoTime();
    }

    void schedule(long delayNanos) {
      var unused = TIMER.schedule(this::check, Math.max(delayNanos, 1), TimeUnit.NANOSECONDS);
    }

    private void check() {
      synchronized (this) {
        if (over || timedOut) {
          return;
        }
        long waited = System.nanoTime() - lastProgress;
        if (outstanding == 0 || waited < timeoutNanos) {
          schedule(outstanding == 0 ? timeoutNanos : timeoutNanos - waited);
          return;
        }
        timedOut = true;
        Status status =
            Status.fromThrowable(
                StatusUtils.toGrpcException(
                    new QuiverException(
                            QuiverErrorCode.TIMED_OUT,
                            "%s: the client sent nothing for %d ms (flight.put-stall-timeout); cancelled,"
                                + " nothing was committed",
                            call.getMethodDescriptor().getBareMethodName(),
                            TimeUnit.NANOSECONDS.toMillis(timeoutNanos))
                        .toFlight()));
        try {
          // The description carries the message; the Quiver code is in the SDK's status mapping.
          call.close(status, new Metadata());
        } catch (IllegalStateException alreadyClosed) {
          // the handler answered in the meantime
        }
        listener.onCancel();
      }
    }
  }
}
