package dev.quiver.client;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.CallOptions;
import org.apache.arrow.flight.Criteria;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.auth2.BasicAuthCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.util.AutoCloseables;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The Java client of a Quiver server: write, scan, list and administer tables over Arrow Flight.
 *
 * <p>A client is thread-safe and meant to be shared; it holds one gRPC channel and one allocator
 * (its own root, or a child of the caller's, see {@link ClientOptions}). Readers it returns are not
 * thread-safe and belong to the caller, who must close them before closing the client. Every
 * failure is a {@link QuiverException} carrying the server's {@link QuiverErrorCode}.
 */
public final class QuiverClient implements AutoCloseable {
  private final Location location;
  private final BufferAllocator allocator;
  private final FlightClient flight;
  private final EndpointClients endpointClients;
  private final Optional<Duration> callTimeout;
  private final CallOption[] callOptions;
  private final CallOption[] streamOptions;
  private final PutStream putStream;
  private final Optional<Credentials> credentials;
  private final AtomicReference<String> bearerToken = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private QuiverClient(Location location, ClientOptions options) {
    this.location = location;
    this.allocator =
        options
            .parentAllocator()
            .map(parent -> parent.newChildAllocator("quiver-client", 0, Long.MAX_VALUE))
            .orElseGet(() -> new RootAllocator(Long.MAX_VALUE));
    try {
      this.flight = flightClient(location, options);
    } catch (RuntimeException e) {
      allocator.close();
      throw e;
    }
    this.endpointClients =
        new EndpointClients(flight, location, other -> flightClient(other, options));
    this.callTimeout = options.callTimeout();
    this.streamOptions = options.callOptions().toArray(new CallOption[0]);
    List<CallOption> unary = new ArrayList<>(options.callOptions());
    options
        .callTimeout()
        .ifPresent(
            timeout -> unary.add(CallOptions.timeout(timeout.toNanos(), TimeUnit.NANOSECONDS)));
    this.callOptions = unary.toArray(new CallOption[0]);
    this.putStream = new PutStream(flight, options.stallTimeout(), streamOptions);
    this.credentials = options.credentials();
    if (credentials.isPresent()) {
      try {
        logIn();
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
  }

  /** A Flight client for {@code target} with this client's middleware, TLS and allocator. */
  private FlightClient flightClient(Location target, ClientOptions options) {
    FlightClient.Builder builder =
        FlightClient.builder(allocator, target)
            .intercept(TraceContextMiddleware.FACTORY)
            .intercept(BearerTokenMiddleware.factory(bearerToken));
    if (options.tls().isPresent()) {
      configureTls(builder, options.tls().get());
    }
    return builder.build();
  }

  private static void configureTls(FlightClient.Builder builder, ClientOptions.Tls tls) {
    try {
      if (tls.trustedCertificates().isPresent()) {
        builder.trustedCertificates(
            new java.io.ByteArrayInputStream(
                java.nio.file.Files.readAllBytes(tls.trustedCertificates().get())));
      }
      if (tls.clientCertificate().isPresent()) {
        builder.clientCertificate(
            new java.io.ByteArrayInputStream(
                java.nio.file.Files.readAllBytes(tls.clientCertificate().get())),
            new java.io.ByteArrayInputStream(
                java.nio.file.Files.readAllBytes(tls.clientKey().orElseThrow())));
      }
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_ARGUMENT, e, "Cannot read TLS material: %s", e.getMessage());
    }
  }

  /** Logs in again for the scan readers (see {@link TokenRenewal}). */
  private final TokenRenewal tokens =
      new TokenRenewal() {
        @Override
        public boolean possible() {
          return credentials.isPresent();
        }

        @Override
        public String current() {
          return bearerToken.get();
        }

        @Override
        public void renew(String stale) {
          synchronized (QuiverClient.this) {
            if (java.util.Objects.equals(bearerToken.get(), stale)) {
              logIn();
            }
          }
        }
      };

  /**
   * Exchanges the credentials for a bearer token (Flight's Basic handshake). Synchronized: two
   * threads logging in at once would leave calls between them without a token.
   */
  private synchronized void logIn() {
    Credentials login = credentials.orElseThrow();
    bearerToken.set(null);
    try {
      flight.handshake(
          new CredentialCallOption(new BasicAuthCredentialWriter(login.user(), login.password())));
    } catch (FlightRuntimeException e) {
      throw QuiverException.fromFlight(e);
    }
    if (bearerToken.get() == null) {
      throw new QuiverException(
          QuiverErrorCode.UNAUTHENTICATED,
          "The server at %s accepted the login of %s but sent no bearer token",
          location.getUri(),
          login.user());
    }
  }

  /** A client of the server at {@code location} with the default options; connects lazily. */
  public static QuiverClient connect(Location location) {
    return connect(location, ClientOptions.defaults());
  }

  /**
   * A client of the server at {@code location}. gRPC connects on the first call, so an unreachable
   * server shows up there as {@link QuiverErrorCode#UNAVAILABLE}. With {@link
   * ClientOptions.Builder#credentials credentials}, the client logs in at once and fails with
   * UNAUTHENTICATED if the server refuses them.
   */
  public static QuiverClient connect(Location location, ClientOptions options) {
    requireNonNull(location, "location is null");
    requireNonNull(options, "options is null");
    return new QuiverClient(location, options);
  }

  /**
   * Appends every batch of {@code batches} to {@code table} in one commit, creating the table from
   * the batches' schema if absent, and returns the server's receipt.
   *
   * <p>Blocks until the server has committed. Sends only as fast as the stream accepts data; a
   * stream that accepts nothing for {@link ClientOptions#stallTimeout()} fails with TIMED_OUT. On
   * any failure the call is cancelled and nothing is committed. The caller keeps owning the reader
   * and closes it.
   */
  public PutReceipt put(TableId table, ArrowReader batches) {
    return put(table, batches, PutOptions.append());
  }

  /**
   * Puts every batch of {@code batches} into {@code table} as {@code options} say (append,
   * overwrite or upsert), in one commit; as {@link #put(TableId, ArrowReader)} otherwise. An
   * overwrite or upsert needs the table to exist (TABLE_NOT_FOUND otherwise); an overwrite whose
   * rows do not all match its filter, or an upsert with a key column missing from the table, a null
   * key or a key twice, fails with INVALID_ARGUMENT and commits nothing.
   */
  public PutReceipt put(TableId table, ArrowReader batches, PutOptions options) {
    requireNonNull(table, "table is null");
    requireNonNull(batches, "batches is null");
    requireNonNull(options, "options is null");
    VectorSchemaRoot root;
    try {
      root = batches.getVectorSchemaRoot();
    } catch (IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, e, "Cannot read the schema of the batches for %s", table);
    }
    return loggedIn(
        () -> putStream.put(table, options, root, batches, batches::loadNextBatch), false);
  }

  /**
   * Appends the one batch in {@code batch} to {@code table} in one commit; as {@link #put(TableId,
   * ArrowReader)} otherwise. The caller keeps owning the root.
   */
  public PutReceipt put(TableId table, VectorSchemaRoot batch) {
    return put(table, batch, PutOptions.append());
  }

  /**
   * Puts the one batch in {@code batch} into {@code table} as {@code options} say; as {@link
   * #put(TableId, ArrowReader, PutOptions)} otherwise. The caller keeps owning the root.
   */
  public PutReceipt put(TableId table, VectorSchemaRoot batch, PutOptions options) {
    requireNonNull(table, "table is null");
    requireNonNull(batch, "batch is null");
    requireNonNull(options, "options is null");
    return loggedIn(
        () -> {
          boolean[] sent = {false};
          return putStream.put(
              table,
              options,
              batch,
              null,
              () -> {
                boolean first = !sent[0];
                sent[0] = true;
                return first;
              });
        },
        true);
  }

  /**
   * Runs a put; when the server refuses the bearer token (expired), logs in again and, if the put
   * can be sent again ({@code resendable}: a refused put committed nothing), retries it once.
   */
  private PutReceipt loggedIn(Supplier<PutReceipt> put, boolean resendable) {
    try {
      return put.get();
    } catch (QuiverException e) {
      if (e.code() != QuiverErrorCode.UNAUTHENTICATED || credentials.isEmpty()) {
        throw e;
      }
      logIn();
      if (!resendable) {
        throw e;
      }
      return put.get();
    }
  }

  /** Every row of the current snapshot of {@code table}; as {@link #scan(TableId, ScanOptions)}. */
  public ArrowReader scan(TableId table) {
    return scan(table, ScanOptions.all());
  }

  /**
   * A reader of {@code table}'s rows as {@code options} select them.
   *
   * <p>The table is planned here (so a missing table or snapshot fails here); data flows as the
   * caller loads batches. With parallelism 1 the endpoints are read one after another in the
   * server's order; with more, up to that many at once on the reader's own threads, and the order
   * of batches across endpoints is not defined. The caller owns the reader and must close it, which
   * cancels any stream still open; the reader's root is valid until the next load or close. An
   * endpoint that names another location (a cluster node) is read from there, over a connection the
   * client opens on first use and keeps until it is closed; one with no location, or this server's,
   * is read through this client's connection. Dictionary-encoded columns are not supported (Iceberg
   * has none).
   */
  public ArrowReader scan(TableId table, ScanOptions options) {
    requireNonNull(table, "table is null");
    requireNonNull(options, "options is null");
    FlightDescriptor descriptor =
        options.needsCommand()
            ? FlightDescriptor.command(Any.pack(options.toCommand(table)).toByteArray())
            : FlightDescriptor.path(table.path());
    FlightInfo info =
        call("Planning the scan of " + table, () -> flight.getInfo(descriptor, callOptions));
    Schema schema =
        info.getSchemaOptional()
            .orElseThrow(
                () ->
                    new QuiverException(
                        QuiverErrorCode.INTERNAL, "The server sent no schema for %s", table));
    for (Field field : schema.getFields()) {
      if (field.getDictionary() != null) {
        throw new QuiverException(
            QuiverErrorCode.UNSUPPORTED_TYPE,
            "Cannot scan %s: column %s is dictionary-encoded",
            table,
            field.getName());
      }
    }
    BufferAllocator scanAllocator = allocator.newChildAllocator("scan " + table, 0, Long.MAX_VALUE);
    if (options.parallelism() > 1 && info.getEndpoints().size() > 1) {
      return new ParallelScanReader(
          scanAllocator,
          endpointClients,
          table,
          schema,
          info.getEndpoints(),
          streamOptions,
          tokens,
          options.parallelism());
    }
    return new SequentialScanReader(
        scanAllocator, endpointClients, table, schema, info.getEndpoints(), streamOptions, tokens);
  }

  /** The schema of {@code table}. */
  public Schema schema(TableId table) {
    requireNonNull(table, "table is null");
    return call(
            "Reading the schema of " + table,
            () -> flight.getSchema(FlightDescriptor.path(table.path()), callOptions))
        .getSchema();
  }

  /** Every table of every namespace, in the server's order. */
  public List<TableId> listTables() {
    return listTables(Criteria.ALL);
  }

  /** The tables of {@code namespace}, in the server's order; empty if it has none. */
  public List<TableId> listTables(String namespace) {
    requireNonNull(namespace, "namespace is null");
    if (!TableId.isValidName(namespace)) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_NAME,
          "Invalid namespace '%s': names match [A-Za-z_][A-Za-z0-9_]{0,127}",
          namespace);
    }
    return listTables(new Criteria(namespace.getBytes(StandardCharsets.UTF_8)));
  }

  private List<TableId> listTables(Criteria criteria) {
    return call(
        "Listing tables",
        () -> {
          List<TableId> tables = new ArrayList<>();
          for (FlightInfo info : flight.listFlights(criteria, callOptions)) {
            tables.add(TableId.fromPath(info.getDescriptor().getPath()));
          }
          return List.copyOf(tables);
        });
  }

  /** The snapshots of {@code table}, oldest first. */
  public List<SnapshotInfo> snapshots(TableId table) {
    requireNonNull(table, "table is null");
    return ActionCodec.snapshots(
        singleResult(QuiverActions.LIST_SNAPSHOTS, ActionCodec.tableBody(table)));
  }

  /** Drops {@code table}; TABLE_NOT_FOUND if it does not exist. */
  public void dropTable(TableId table) {
    requireNonNull(table, "table is null");
    ActionCodec.checkDropped(
        table, singleResult(QuiverActions.DROP_TABLE, ActionCodec.tableBody(table)));
  }

  /** What the server says about itself. */
  public ServerInfo serverInfo() {
    return ActionCodec.serverInfo(singleResult(QuiverActions.SERVER_INFO, new byte[0]));
  }

  /**
   * Closes the channel and the client's allocator; a second close does nothing. Fails with INTERNAL
   * if a reader the client returned is still open (its memory would leak).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      AutoCloseables.close(endpointClients, flight, allocator);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QuiverException(
          QuiverErrorCode.CANCELLED, e, "Interrupted while closing the client of %s", location);
    } catch (Exception e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          e,
          "Cannot close the client of %s: %s",
          location,
          e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "QuiverClient[" + location.getUri() + "]";
  }

  /** Runs an action and returns its first result; every result is read so the call ends. */
  private byte[] singleResult(String type, byte[] body) {
    List<byte[]> results =
        call(
            "Action " + type,
            () -> {
              List<byte[]> bodies = new ArrayList<>();
              Iterator<Result> it = flight.doAction(new Action(type, body), callOptions);
              while (it.hasNext()) {
                bodies.add(it.next().getBody());
              }
              return bodies;
            });
    if (results.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL, "The server sent no result for action %s", type);
    }
    return results.get(0);
  }

  /**
   * Runs a request-response call, turning its failure into a QuiverException; a deadline gRPC
   * enforced is reported with what timed out and the configured limit.
   */
  private <T> T call(String what, Supplier<T> body) {
    try {
      return body.get();
    } catch (FlightRuntimeException e) {
      QuiverException failure = QuiverException.fromFlight(e);
      if (failure.code() == QuiverErrorCode.UNAUTHENTICATED && credentials.isPresent()) {
        // The bearer token expired (or the server restarted): log in again and retry once.
        logIn();
        try {
          return body.get();
        } catch (FlightRuntimeException again) {
          throw QuiverException.fromFlight(again);
        }
      }
      if (failure.code() == QuiverErrorCode.TIMED_OUT && callTimeout.isPresent()) {
        throw new QuiverException(
            QuiverErrorCode.TIMED_OUT,
            e,
            "%s did not finish within the call timeout of %s: %s",
            what,
            callTimeout.get(),
            failure.getMessage());
      }
      throw failure;
    }
  }
}
