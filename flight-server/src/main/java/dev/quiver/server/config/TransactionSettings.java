package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The {@code sql.transaction-*} part of {@link ServerConfig}: how long Flight SQL transactions may
 * sit idle and how many one user may hold open.
 *
 * @param timeout a transaction no statement used for this long is rolled back and its staged files
 *     deleted
 * @param maxPerUser the most transactions one user may have open at once; BeginTransaction beyond
 *     it is refused (RESOURCE_EXHAUSTED)
 */
public record TransactionSettings(Duration timeout, int maxPerUser) {
  /** Idle transactions end after 5 minutes; 8 open per user. */
  public static final TransactionSettings DEFAULTS =
      new TransactionSettings(Duration.ofMinutes(5), 8);

  public TransactionSettings {
    requireNonNull(timeout, "timeout is null");
    if (timeout.toMillis() < 1) {
      throw new IllegalArgumentException("sql.transaction-timeout must be positive: " + timeout);
    }
    if (maxPerUser < 1) {
      throw new IllegalArgumentException(
          "sql.max-transactions-per-user must be at least 1: " + maxPerUser);
    }
  }
}
