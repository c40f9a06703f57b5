package dev.quiver.server.telemetry;

import static java.util.Objects.requireNonNull;

import dev.quiver.server.config.TelemetrySettings;
import dev.quiver.server.memory.MemoryGovernor;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.instrumentation.runtimetelemetry.RuntimeTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.arrow.util.AutoCloseables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's OpenTelemetry: the SDK, configured the way operators expect, and what hangs off it
 * (the tracing middleware, the metrics, the in-server alert rules, the telemetry HTTP endpoint).
 *
 * <p>The SDK is built by OpenTelemetry's autoconfigure module from the standard {@code OTEL_*}
 * environment variables (and {@code otel.*} system properties). Quiver changes two of its defaults:
 * nothing is exported over OTLP unless an OTLP endpoint or an exporter is named ({@code
 * OTEL_EXPORTER_OTLP_ENDPOINT}, {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}, {@code
 * OTEL_TRACES_EXPORTER}, ...), so a server started without them does not keep failing to reach
 * localhost:4318; and the service name defaults to {@code quiver}. Exemplars are off (Prometheus
 * rejects the long ones). Export is asynchronous (batching span processor, periodic metric reader),
 * so a slow or unreachable backend drops telemetry, never slows a call.
 *
 * <p>{@link #close()} shuts everything down, waiting at most {@link #SHUTDOWN_SECONDS} for the last
 * export; a second close does nothing.
 */
public final class Telemetry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Telemetry.class);
  static final String SCOPE = "dev.quiver.server";
  static final long SHUTDOWN_SECONDS = 5;

  private final OpenTelemetrySdk sdk;
  private final CallTracer tracer;
  private final List<AutoCloseable> parts;
  private final StatusServer http;
  private final Map<String, Supplier<?>> statusSections;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Telemetry(
      OpenTelemetrySdk sdk,
      CallTracer tracer,
      List<AutoCloseable> parts,
      StatusServer http,
      Map<String, Supplier<?>> statusSections) {
    this.sdk = sdk;
    this.tracer = tracer;
    this.parts = parts;
    this.http = http;
    this.statusSections = statusSections;
  }

  /** Telemetry that records nothing: no spans, no metrics, no endpoint. */
  public static Telemetry disabled() {
    return new Telemetry(null, null, List.of(), null, new ConcurrentSkipListMap<>());
  }

  /**
   * Adds a section {@code name} to {@code /status.json} and the status page, read from {@code
   * section} at each request (the cluster's nodes, the maintenance policy: parts of the server
   * telemetry does not know). The value must serialise to JSON.
   */
  public void addStatusSection(String name, Supplier<?> section) {
    requireNonNull(name, "name is null");
    requireNonNull(section, "section is null");
    statusSections.put(name, section);
  }

  /**
   * Starts telemetry as {@code settings} and the environment say, with {@code options} added; the
   * caller closes it (before closing {@code memory}, whose figures it reads).
   *
   * @throws IOException when the telemetry endpoint cannot bind its port
   */
  public static Telemetry start(
      TelemetrySettings settings,
      MemoryGovernor memory,
      TelemetryOptions options,
      StatusAccess statusAccess)
      throws IOException {
    requireNonNull(settings, "settings is null");
    requireNonNull(memory, "memory is null");
    requireNonNull(options, "options is null");
    if (!settings.enabled()) {
      return disabled();
    }
    PrometheusMetricReader prometheus =
        settings.port().isPresent()
            ? PrometheusMetricReader.builder().setOtelScopeLabelsEnabled(false).build()
            : null;
    OpenTelemetrySdk sdk = buildSdk(options, prometheus);
    List<AutoCloseable> parts = new ArrayList<>();
    try {
      Meter meter = sdk.getMeter(SCOPE);
      Tracer tracer = sdk.getTracer(SCOPE);
      CallMetrics metrics = new CallMetrics(meter, memory);
      parts.add(metrics);
      CallRegistry calls = new CallRegistry();
      AlertEvaluator alerts = new AlertEvaluator(AlertRule.RULES, meter);
      parts.add(alerts);
      parts.add(RuntimeTelemetry.create(sdk));
      ScheduledExecutorService scheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "quiver-alerts");
                t.setDaemon(true);
                return t;
              });
      parts.add(scheduler::shutdownNow);
      long every = settings.alertInterval().toMillis();
      scheduler.scheduleAtFixedRate(
          () -> evaluate(alerts, memory, metrics), every, every, TimeUnit.MILLISECONDS);
      StatusServer http = null;
      Map<String, Supplier<?>> sections = new ConcurrentSkipListMap<>();
      if (prometheus != null) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(prometheus);
        http =
            new StatusServer(
                new InetSocketAddress(settings.host(), settings.port().getAsInt()),
                registry,
                () -> StatusServer.status(memory, metrics, calls, alerts, sections),
                statusAccess);
        parts.add(http);
      }
      return new Telemetry(
          sdk, new CallTracer(tracer, metrics, calls), List.copyOf(parts), http, sections);
    } catch (IOException | RuntimeException e) {
      try {
        AutoCloseables.close(parts);
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      sdk.shutdown().join(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
      throw e;
    }
  }

  private static void evaluate(AlertEvaluator alerts, MemoryGovernor memory, CallMetrics metrics) {
    try {
      alerts.evaluate(
          new AlertEvaluator.Sample(
              System.nanoTime(),
              memory.pressure(),
              memory.queued(),
              metrics.totalCalls.sum(),
              metrics.totalErrors.sum(),
              metrics.totalStallNanos.sum()));
    } catch (RuntimeException e) {
      // A failing evaluation must not kill the schedule (the executor would drop the task).
      LOG.warn("Alert evaluation failed", e);
    }
  }

  private static OpenTelemetrySdk buildSdk(
      TelemetryOptions options, PrometheusMetricReader prometheus) {
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(
            () ->
                Map.of(
                    "otel.service.name", "quiver",
                    "otel.logs.exporter", "none",
                    "otel.metrics.exemplar.filter", "always_off"))
        .addPropertiesCustomizer(config -> options.otelProperties())
        .addPropertiesCustomizer(Telemetry::exportOnlyWhenAsked)
        .addTracerProviderCustomizer(
            (builder, config) -> {
              options.spanProcessors().forEach(builder::addSpanProcessor);
              return builder;
            })
        .addMeterProviderCustomizer(
            (builder, config) ->
                prometheus == null ? builder : builder.registerMetricReader(prometheus))
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  /**
   * Turns the OTLP exporters off unless the configuration names an endpoint or an exporter for them
   * (autoconfigure's own default would export to localhost).
   */
  static Map<String, String> exportOnlyWhenAsked(ConfigProperties config) {
    Map<String, String> overrides = new HashMap<>();
    boolean endpoint = config.getString("otel.exporter.otlp.endpoint") != null;
    for (String signal : List.of("traces", "metrics")) {
      boolean named = config.getString("otel." + signal + ".exporter") != null;
      boolean signalEndpoint =
          config.getString("otel.exporter.otlp." + signal + ".endpoint") != null;
      if (!named && !endpoint && !signalEndpoint) {
        overrides.put("otel." + signal + ".exporter", "none");
      }
    }
    return overrides;
  }

  /** What traces every call, or empty when telemetry is off. */
  public Optional<CallTracer> tracer() {
    return Optional.ofNullable(tracer);
  }

  /**
   * The meter other parts record their own figures with (the read cache, the table store's commit
   * retries); a no-op one when telemetry is off.
   */
  public Meter meter() {
    return sdk == null
        ? io.opentelemetry.api.OpenTelemetry.noop().getMeter(SCOPE)
        : sdk.getMeter(SCOPE);
  }

  /** The port of the telemetry HTTP endpoint, or empty when there is none. */
  public OptionalInt httpPort() {
    return http == null ? OptionalInt.empty() : OptionalInt.of(http.address().getPort());
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      AutoCloseables.close(parts);
    } catch (Exception e) {
      LOG.warn("Closing telemetry failed", e);
    } finally {
      if (sdk != null) {
        CompletableResultCode done = sdk.shutdown().join(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        if (!done.isDone()) {
          LOG.warn(
              "Telemetry export still running {} s after shutdown; abandoned", SHUTDOWN_SECONDS);
        }
      }
    }
  }
}
