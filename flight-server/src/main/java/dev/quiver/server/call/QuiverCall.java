package dev.quiver.server.call;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import dev.quiver.server.flight.transport.UploadSignals;
import dev.quiver.server.memory.AdmissionQueue.Outcome;
import dev.quiver.server.memory.AdmissionQueue.Resource;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.SqlTurns;
import dev.quiver.server.telemetry.CallTrace;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.arrow.flight.FlightProducer.CallContext;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.util.AutoCloseables;

/**
 * One Flight call as Quiver serves it: who makes it, its trace (span, metrics, status-page row),
 * what its upload has sent so far, and one admission for everything it needs to run.
 *
 * <p>{@link CallMiddleware} makes one per call when the call starts; the producer binds it to the
 * call's context ({@link CallMiddleware.Factory#of}) and hands it to the call's handler, so a
 * handler needs nothing else about its call. Handler threads read it; binding happens once, before
 * any handler runs.
 */
@ThreadSafe
public final class QuiverCall {
  /** What a call may need before it runs. */
  public enum Need {
    /** A call allocator capped at memory.query-limit. */
    MEMORY,
    /**
     * A call allocator capped only at memory.total, whose caller checks the query limit itself
     * between batches (for batches that cross the C Data interface; see {@link
     * MemoryGovernor#newNativeCallAllocator}).
     */
    NATIVE_MEMORY,
    /** A turn of the SQL engine (sql.max-concurrent-queries). */
    SQL_TURN
  }

  /**
   * What an admitted call holds: its allocator, and its SQL turn when it asked for one (queries run
   * in it and give nothing back). Closing it gives back both, the turn first.
   */
  public record Admitted(BufferAllocator allocator, SqlTurns.Turn turn) implements AutoCloseable {
    /** Gives back the turn, if any; the allocator stays open. Harmless twice. */
    public void closeTurn() {
      if (turn != null) {
        turn.close();
      }
    }

    @Override
    public void close() throws Exception {
      AutoCloseables.close(turn, allocator);
    }
  }

  private final CallTrace trace;
  private final MemoryGovernor memory;
  private final SqlTurns turns;
  private volatile CallContext context;
  private volatile UploadSignals upload = UploadSignals.NONE;

  QuiverCall(CallTrace trace, MemoryGovernor memory, SqlTurns turns) {
    this.trace = requireNonNull(trace, "trace is null");
    this.memory = requireNonNull(memory, "memory is null");
    this.turns = requireNonNull(turns, "turns is null");
  }

  /** Binds the call's Flight context and upload signals; the first binding wins. */
  synchronized QuiverCall bind(CallContext context, UploadSignals upload) {
    if (this.context == null) {
      this.context = requireNonNull(context, "context is null");
      this.upload = requireNonNull(upload, "upload is null");
    }
    return this;
  }

  /** The call's span, metrics and status-page row. */
  public CallTrace trace() {
    return trace;
  }

  /** The Flight context the call came with: its session, its middleware. */
  public CallContext context() {
    return context;
  }

  /** The authenticated user, or null without authentication. */
  public String user() {
    return context.peerIdentity();
  }

  /** What the call's upload (a DoPut stream) has handed Flight so far. */
  public UploadSignals upload() {
    return upload;
  }

  /** Whether the client has cancelled the call. */
  public boolean isCancelled() {
    return context != null && context.isCancelled();
  }

  /**
   * Admits the call, named {@code name} in the memory report and in refusals: waits in the server's
   * one admission queue until it can take everything in {@code needs} at once (an allocator, and a
   * SQL turn if asked), under one deadline, and records the wait in the call's trace. The caller
   * closes what it gets on every path.
   *
   * @throws dev.quiver.client.QuiverException SERVER_MEMORY_EXHAUSTED when refused (queue full,
   *     deadline passed), CANCELLED when the client cancels while it waits
   */
  public Admitted admit(String name, Set<Need> needs) {
    boolean sqlTurn = needs.contains(Need.SQL_TURN);
    boolean nativeMemory = needs.contains(Need.NATIVE_MEMORY);
    if (!sqlTurn) {
      BufferAllocator allocator =
          trace.admit(
              () ->
                  nativeMemory
                      ? memory.newNativeCallAllocator(name)
                      : memory.newCallAllocator(name));
      return new Admitted(allocator, null);
    }
    BooleanSupplier cancelled = this::isCancelled;
    Admitted[] admitted = new Admitted[1];
    trace.admit(
        () -> {
          admitted[0] =
              memory
                  .admission()
                  .admit(
                      name,
                      EnumSet.of(Resource.MEMORY, Resource.SQL_TURN),
                      () -> tryBoth(name, nativeMemory),
                      cancelled,
                      (shortOf, limitKey) ->
                          shortOf == Resource.SQL_TURN
                              ? turns.refuse(name, limitKey)
                              : memory.refuse(name, limitKey));
          return admitted[0].allocator();
        });
    return admitted[0];
  }

  private Outcome<Admitted> tryBoth(String name, boolean nativeMemory) {
    SqlTurns.Turn turn = turns.tryTake();
    if (turn == null) {
      return Outcome.shortOf(Resource.SQL_TURN);
    }
    BufferAllocator allocator =
        nativeMemory ? memory.tryNewNativeCallAllocator(name) : memory.tryNewCallAllocator(name);
    if (allocator == null) {
      turn.close();
      return Outcome.shortOf(Resource.MEMORY);
    }
    return Outcome.admitted(new Admitted(allocator, turn));
  }
}
