package dev.quiver.server.flight.transport;

/**
 * What a DoPut's stream has handed Flight so far: its first message (the one with the descriptor)
 * and its schema. Flight's {@code FlightStream.getDescriptor()} and {@code getSchema()} wait for
 * those with no end, even once the stream has ended or failed without them, so a handler asks here
 * first (see {@link MalformedMessages}).
 */
public interface UploadSignals {
  /** For calls that upload nothing, or are not served through {@link MalformedMessages}. */
  UploadSignals NONE =
      new UploadSignals() {
        @Override
        public boolean awaitFirstMessage() {
          return true;
        }

        @Override
        public boolean awaitSchema() {
          return true;
        }
      };

  /**
   * Waits until the stream has handed Flight its first message (true), or has ended, failed or been
   * cancelled without one (false).
   */
  boolean awaitFirstMessage() throws InterruptedException;

  /**
   * Waits until the stream has handed Flight its schema (true), or has ended, failed or been
   * cancelled without one (false).
   */
  boolean awaitSchema() throws InterruptedException;
}
