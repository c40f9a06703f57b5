package dev.quiver.it;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Starts one {@link QuiverServerProcess} per test class, on a fresh data directory, when a test
 * first asks for it, and stops it after the class's last test.
 *
 * <p>Use {@code @ExtendWith(QuiverServerExtension.class)} and take a {@link QuiverServerProcess}
 * parameter in a test method, a {@code @BeforeAll}/{@code @BeforeEach} method or the constructor.
 * Tests of one class share the server, so each should use its own table names. When a test fails,
 * the tail of the server's output is printed to stderr.
 */
final class QuiverServerExtension implements ParameterResolver, TestWatcher {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(QuiverServerExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext context) {
    return parameterContext.getParameter().getType() == QuiverServerProcess.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
    return server(context);
  }

  /** A failed test prints the tail of the server's output beside its own report. */
  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    RunningServer running =
        classContext(context).getStore(NAMESPACE).get("server", RunningServer.class);
    if (running != null) {
      System.err.printf(
          "%s failed; the last output of %s:%n%s%n",
          context.getDisplayName(), running.server(), running.server().outputTail());
    }
  }

  /** The class's server, started on first use; JUnit closes it when the class context closes. */
  private static QuiverServerProcess server(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    return classContext
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("server", key -> new RunningServer(), RunningServer.class)
        .server();
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext current = context;
    while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
      current = current.getParent().get();
    }
    return current;
  }

  /** Lets JUnit's store close the server with the class context. */
  private static final class RunningServer implements ExtensionContext.Store.CloseableResource {
    private final QuiverServerProcess server = QuiverServerProcess.start();

    QuiverServerProcess server() {
      return server;
    }

    @Override
    public void close() {
      server.close();
    }
  }
}
