package dev.quiver.client;

/**
 * How a scan reader logs its client in again when a stream is refused because the bearer token
 * expired. Thread-safe: the readers of a parallel scan may ask at once, and only the first one
 * whose token is stale logs in.
 */
interface TokenRenewal {
  /** A client without credentials: nothing to renew. */
  TokenRenewal NONE =
      new TokenRenewal() {
        @Override
        public boolean possible() {
          return false;
        }

        @Override
        public String current() {
          return null;
        }

        @Override
        public void renew(String stale) {}
      };

  /** Whether the client has credentials to log in with. */
  boolean possible();

  /** The token calls carry now, to hand back to {@link #renew} if the call is refused. */
  String current();

  /** Logs in again, unless the token is no longer {@code stale} (another thread renewed it). */
  void renew(String stale);
}
