package dev.quiver.server.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server log lines written while a call's span is current carry its trace and span ids; others
 * carry none. Exercises the server's own logback.xml (the binding on this classpath).
 */
class LogCorrelationTest {
  private static final Logger LOG = LoggerFactory.getLogger(LogCorrelationTest.class);

  @Test
  @SuppressWarnings("try") // the scope is only made current
  void logLinesInsideASpanCarryItsIds() {
    try (SdkTracerProvider tracing = SdkTracerProvider.builder().build()) {
      Span span = tracing.get("test").spanBuilder("DoGet").startSpan();
      String inside;
      String outside;
      try (Scope ignored = span.makeCurrent()) {
        inside = StdErr.capture(() -> LOG.info("inside the call"));
      } finally {
        span.end();
      }
      outside = StdErr.capture(() -> LOG.info("outside any call"));

      assertThat(inside)
          .contains(
              "trace_id="
                  + span.getSpanContext().getTraceId()
                  + " span_id="
                  + span.getSpanContext().getSpanId()
                  + " - inside the call");
      assertThat(outside)
          .contains("LogCorrelationTest - outside any call")
          .doesNotContain("trace_id");
    }
  }
}
