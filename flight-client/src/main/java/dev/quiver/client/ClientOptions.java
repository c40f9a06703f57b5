package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.memory.BufferAllocator;

/**
 * How a {@link QuiverClient} connects and how long it waits.
 *
 * @param parentAllocator the allocator the client makes its own child allocator from; empty means
 *     the client makes and owns a {@code RootAllocator}. The caller keeps owning the parent and
 *     must close the client first.
 * @param callTimeout the deadline of each request-response call (GetFlightInfo, GetSchema,
 *     ListFlights, DoAction); empty means none. Streams (DoGet, DoPut) get no deadline because
 *     their length depends on the data; see {@code stallTimeout}.
 * @param stallTimeout the longest a put waits for the stream to accept the next batch, and for the
 *     server's receipt after the last one, before it fails with {@link QuiverErrorCode#TIMED_OUT}
 * @param callOptions extra Flight call options (headers, credentials) added to every call
 * @param credentials the user name and password to log in with; empty for a server without
 *     authentication
 */
public record ClientOptions(
    Optional<BufferAllocator> parentAllocator,
    Optional<Duration> callTimeout,
    Duration stallTimeout,
    List<CallOption> callOptions,
    Optional<Credentials> credentials) {
  /** The stall timeout when none is given: long enough for a busy server to commit. */
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(60);

  public ClientOptions {
    requireNonNull(parentAllocator, "parentAllocator is null");
    requireNonNull(callTimeout, "callTimeout is null");
    requireNonNull(stallTimeout, "stallTimeout is null");
    callOptions = List.copyOf(requireNonNull(callOptions, "callOptions is null"));
    requireNonNull(credentials, "credentials is null");
    callTimeout.ifPresent(timeout -> checkPositive("callTimeout", timeout));
    checkPositive("stallTimeout", stallTimeout);
  }

  /** The defaults: an owned root allocator, no call deadline, a 60 s stall timeout. */
  public static ClientOptions defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  private static void checkPositive(String what, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, "%s must be positive but was %s", what, value);
    }
  }

  /** Builds {@link ClientOptions}; not thread-safe. */
  public static final class Builder {
    private BufferAllocator parentAllocator;
    private Duration callTimeout;
    private Duration stallTimeout = DEFAULT_STALL_TIMEOUT;
    private final List<CallOption> callOptions = new ArrayList<>();
    private Credentials credentials;

    private Builder() {}

    /** Makes the client's allocator a child of {@code parent}, which the caller keeps owning. */
    public Builder parentAllocator(BufferAllocator parent) {
      this.parentAllocator = requireNonNull(parent, "parent is null");
      return this;
    }

    /** Sets the deadline of each request-response call. */
    public Builder callTimeout(Duration timeout) {
      this.callTimeout = requireNonNull(timeout, "timeout is null");
      return this;
    }

    /** Sets how long a put waits for stream readiness and for the server's receipt. */
    public Builder stallTimeout(Duration timeout) {
      this.stallTimeout = requireNonNull(timeout, "timeout is null");
      return this;
    }

    /** Adds a Flight call option to every call. */
    public Builder addCallOption(CallOption option) {
      callOptions.add(requireNonNull(option, "option is null"));
      return this;
    }

    /**
     * Logs in as {@code user} with {@code password} (Flight's Basic handshake) and sends the bearer
     * token the server returns on every call; the client logs in again when the token expires.
     */
    public Builder credentials(String user, String password) {
      this.credentials = new Credentials(user, password);
      return this;
    }

    /** The options as set; fails with INVALID_ARGUMENT on a non-positive timeout. */
    public ClientOptions build() {
      return new ClientOptions(
          Optional.ofNullable(parentAllocator),
          Optional.ofNullable(callTimeout),
          stallTimeout,
          callOptions,
          Optional.ofNullable(credentials));
    }
  }
}
