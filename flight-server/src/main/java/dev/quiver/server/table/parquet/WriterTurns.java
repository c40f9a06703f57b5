package dev.quiver.server.table.parquet;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.server.config.DataSize;
import dev.quiver.server.memory.AdmissionQueue;
import dev.quiver.server.memory.AdmissionQueue.Outcome;
import dev.quiver.server.memory.AdmissionQueue.Resource;
import java.util.EnumSet;

/**
 * The turns of the Parquet writer: at most {@code slots} writes run at once, each with row groups
 * of at most its share of {@code duckdb.memory-limit}, so that the writes sharing the limit all fit
 * in it. A write that finds every turn taken waits in the server's one {@link AdmissionQueue},
 * under its deadline and bound, then fails with SERVER_MEMORY_EXHAUSTED naming the key. Its put is
 * not read meanwhile, so its client is held back by flow control.
 */
@ThreadSafe
final class WriterTurns {
  private final int slots;
  private final long memoryLimitBytes;
  private final AdmissionQueue line;

  @GuardedBy("this")
  private int running;

  /** One write's turn; closing it gives it back, and a second close does nothing. */
  final class Turn implements AutoCloseable {
    @GuardedBy("WriterTurns.this")
    private boolean released;

    @Override
    public void close() {
      synchronized (WriterTurns.this) {
        if (released) {
          return;
        }
        released = true;
        running--;
      }
      line.released();
    }
  }

  WriterTurns(int slots, long memoryLimitBytes, AdmissionQueue line) {
    if (slots < 1) {
      throw new IllegalArgumentException("The writer needs at least one turn, got " + slots);
    }
    this.slots = slots;
    this.memoryLimitBytes = memoryLimitBytes;
    this.line = requireNonNull(line, "line is null");
  }

  int slots() {
    return slots;
  }

  /** A turn for the write named {@code name}, waiting in line while every turn is taken. */
  Turn take(String name) {
    return line.admit(
        name,
        EnumSet.of(Resource.WRITER_TURN),
        () -> {
          Turn turn = tryTake();
          return turn == null ? Outcome.shortOf(Resource.WRITER_TURN) : Outcome.admitted(turn);
        },
        () -> false,
        (shortOf, limitKey) -> refuse(name, limitKey));
  }

  private Turn tryTake() {
    synchronized (this) {
      if (running >= slots) {
        return null;
      }
      running++;
    }
    return new Turn();
  }

  private QuiverException refuse(String name, String limitKey) {
    String reason =
        limitKey.equals(AdmissionQueue.QUEUE_KEY)
            ? "the queue is full (" + limitKey + ")"
            : String.format("waited %d ms (%s)", line.timeout().toMillis(), limitKey);
    return new QuiverException(
        QuiverErrorCode.SERVER_MEMORY_EXHAUSTED,
        "%s: the Parquet writer is busy (%d writes at once share duckdb.memory-limit, %s); %s",
        name,
        slots,
        DataSize.format(memoryLimitBytes),
        reason);
  }
}
