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
 * @param tls for a {@code grpc+tls} location: the CA certificates to trust and the client
 *     certificate for mutual TLS; empty trusts the JVM's default CAs and sends no certificate
 */
public record ClientOptions(
    Optional<BufferAllocator> parentAllocator,
    Optional<Duration> callTimeout,
    Duration stallTimeout,
    List<CallOption> callOptions,
    Optional<Credentials> credentials,
    Optional<Tls> tls) {
  /**
   * TLS material, all PEM files.
   *
   * @param trustedCertificates the CA certificates that signed the server's certificate
   * @param clientCertificate the client's certificate chain, for servers that require one
   * @param clientKey the client's private key (PKCS#8), present exactly when the certificate is
   */
  public record Tls(
      Optional<java.nio.file.Path> trustedCertificates,
      Optional<java.nio.file.Path> clientCertificate,
      Optional<java.nio.file.Path> clientKey) {
    public Tls {
      requireNonNull(trustedCertificates, "trustedCertificates is null");
      requireNonNull(clientCertificate, "clientCertificate is null");
      requireNonNull(clientKey, "clientKey is null");
      if (clientCertificate.isPresent() != clientKey.isPresent()) {
        throw new QuiverException(
            QuiverErrorCode.INVALID_ARGUMENT,
            "A client certificate needs its key, and a key its certificate");
      }
    }
  }

  /** The stall timeout when none is given: long enough for a busy server to commit. */
  public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(60);

  public ClientOptions {
    requireNonNull(parentAllocator, "parentAllocator is null");
    requireNonNull(callTimeout, "callTimeout is null");
    requireNonNull(stallTimeout, "stallTimeout is null");
    callOptions = List.copyOf(requireNonNull(callOptions, "callOptions is null"));
    requireNonNull(credentials, "credentials is null");
    requireNonNull(tls, "tls is null");
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
    private java.nio.file.Path trustedCertificates;
    private java.nio.file.Path clientCertificate;
    private java.nio.file.Path clientKey;

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
     * token the server returns on every call. When the token has expired, a request-response call
     * (and so every scan, which starts with one) or a put of one batch logs in again and retries
     * once; a put from an ArrowReader logs in again but fails with UNAUTHENTICATED, since its
     * batches cannot be read twice, and so does a scan whose token expires between planning and
     * reading (the next call then works).
     */
    public Builder credentials(String user, String password) {
      this.credentials = new Credentials(user, password);
      return this;
    }

    /** Trusts the CA certificates in PEM file {@code pem} for a {@code grpc+tls} server. */
    public Builder trustedCertificates(java.nio.file.Path pem) {
      this.trustedCertificates = requireNonNull(pem, "pem is null");
      return this;
    }

    /** Presents this certificate and key (PEM, PKCS#8) to a server that requires mutual TLS. */
    public Builder clientCertificate(java.nio.file.Path certificate, java.nio.file.Path key) {
      this.clientCertificate = requireNonNull(certificate, "certificate is null");
      this.clientKey = requireNonNull(key, "key is null");
      return this;
    }

    /** The options as set; fails with INVALID_ARGUMENT on a non-positive timeout. */
    public ClientOptions build() {
      return new ClientOptions(
          Optional.ofNullable(parentAllocator),
          Optional.ofNullable(callTimeout),
          stallTimeout,
          callOptions,
          Optional.ofNullable(credentials),
          trustedCertificates == null && clientCertificate == null
              ? Optional.empty()
              : Optional.of(
                  new Tls(
                      Optional.ofNullable(trustedCertificates),
                      Optional.ofNullable(clientCertificate),
                      Optional.ofNullable(clientKey))));
    }
  }
}
