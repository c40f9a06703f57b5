package dev.quiver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Parameter;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands each test a fresh {@link RootAllocator} and fails the test if any Arrow memory is still
 * allocated when it ends (Arrow's TestLeak pattern).
 *
 * <p>Use it with {@code @ExtendWith(ArrowAllocatorExtension.class)} and a {@link BufferAllocator}
 * parameter on the test method or constructor. Close every child allocator and vector inside the
 * test; this extension closes the root after checking it.
 */
public final class ArrowAllocatorExtension implements ParameterResolver, AfterEachCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ArrowAllocatorExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext context) {
    Parameter parameter = parameterContext.getParameter();
    return parameter.getType() == BufferAllocator.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    return store.getOrComputeIfAbsent(
        "allocator", key -> new RootAllocator(Long.MAX_VALUE), BufferAllocator.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    BufferAllocator allocator =
        context.getStore(NAMESPACE).remove("allocator", BufferAllocator.class);
    if (allocator == null) {
      return;
    }
    try {
      assertThat(allocator.getAllocatedMemory())
          .as(
              "Arrow memory leaked by %s:%n%s",
              context.getDisplayName(), allocator.toVerboseString())
          .isZero();
    } finally {
      allocator.close();
    }
  }
}
