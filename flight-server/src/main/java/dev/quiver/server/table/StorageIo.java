package dev.quiver.server.table;

import static java.util.Objects.requireNonNull;

import com.google.errorprone.annotations.ThreadSafe;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the warehouse's storage did: operations, bytes and the time the server waited on them, for
 * reads, writes, deletes and listings through Iceberg's FileIO ({@link MeteredFileIO}). That covers
 * every metadata file, every upload of a data file to object storage and every fetch into the read
 * cache; DuckDB's reads of local Parquet files go around FileIO and are counted per call instead
 * (the bytes a scan planned).
 *
 * <p>Totals are kept here; each operation is also handed to the {@link Listener} set with {@link
 * #listen}, which telemetry uses for its latency histogram. Thread-safe.
 */
@ThreadSafe
public final class StorageIo {
  /** An operation on storage. */
  public enum Op {
    /** Bytes read from one opened file; the time is the time spent waiting in reads. */
    READ,
    /** Bytes written to one new file, until it is closed (an upload completes at close). */
    WRITE,
    /** One file deleted (a bulk delete counts each file, with the whole call's time once). */
    DELETE,
    /** One listing of a prefix. */
    LIST;

    /** The lower-case name metrics use. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Sees each operation as it ends. */
  @FunctionalInterface
  public interface Listener {
    void completed(Op op, long bytes, long nanos);
  }

  /** The totals of one kind of operation. */
  public record Totals(long operations, long bytes, long nanos) {}

  private record Counters(LongAdder operations, LongAdder bytes, LongAdder nanos) {
    Counters() {
      this(new LongAdder(), new LongAdder(), new LongAdder());
    }
  }

  private final String storage;
  private final Map<Op, Counters> counters = new EnumMap<>(Op.class);
  private volatile Listener listener = (op, bytes, nanos) -> {};

  /**
   * @param storage what the warehouse is on, as metrics label it: {@code local} or {@code s3}
   */
  public StorageIo(String storage) {
    this.storage = requireNonNull(storage, "storage is null");
    for (Op op : Op.values()) {
      counters.put(op, new Counters());
    }
  }

  /** {@code local} or {@code s3}. */
  public String storage() {
    return storage;
  }

  /** Hands every later operation to {@code listener} as well. */
  public void listen(Listener listener) {
    this.listener = requireNonNull(listener, "listener is null");
  }

  void record(Op op, long count, long bytes, long nanos) {
    Counters c = counters.get(op);
    c.operations().add(count);
    c.bytes().add(bytes);
    c.nanos().add(nanos);
    listener.completed(op, bytes, nanos);
  }

  /** The totals of {@code op} since the server started. */
  public Totals totals(Op op) {
    Counters c = counters.get(op);
    return new Totals(c.operations().sum(), c.bytes().sum(), c.nanos().sum());
  }
}
