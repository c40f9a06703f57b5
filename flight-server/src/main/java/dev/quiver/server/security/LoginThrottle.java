package dev.quiver.server.security;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows password guessing: the {@code maxFailures}-th failed login in a row for one user name locks
 * that name for 1 s, each further failure for 2 s, 4 s, ... doubling up to {@code maxLockout}; a
 * login while locked is refused without checking the password (so it costs the server no hash
 * either). A successful login clears the name's count.
 *
 * <p>Names are counted whether or not such a user exists, and a locked name is refused with the
 * same message either way, so the throttle tells nobody which users exist. At most {@link
 * #MAX_NAMES} names are remembered (the least recently failed dropped first), so a flood of made-up
 * names costs bounded memory; such a flood can push a real name's count out, which only makes the
 * throttle forget, never lock someone out. Counting by client address is not done: Flight's header
 * authenticator does not see the peer. Thread-safe; the clock is injectable for tests.
 */
public final class LoginThrottle {
  /** The most user names whose failures are remembered. */
  static final int MAX_NAMES = 10_000;

  private static final Duration FIRST_LOCK = Duration.ofSeconds(1);

  /** No throttling at all ({@code security.login-max-failures=0}). */
  public static final LoginThrottle NONE = new LoginThrottle(0, Duration.ZERO, Clock.systemUTC());

  private final int maxFailures;
  private final Duration maxLockout;
  private final Clock clock;
  private final Map<String, Failures> failures =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
          return size() > MAX_NAMES;
        }
      };

  private static final class Failures {
    int count;
    Instant lockedUntil = Instant.MIN;
  }

  /**
   * @param maxFailures failed logins in a row that lock a name; 0 turns the throttle off
   * @param maxLockout the longest a name is locked
   */
  public LoginThrottle(int maxFailures, Duration maxLockout, Clock clock) {
    if (maxFailures < 0) {
      throw new IllegalArgumentException("maxFailures must not be negative: " + maxFailures);
    }
    this.maxFailures = maxFailures;
    this.maxLockout = requireNonNull(maxLockout, "maxLockout is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** Whether {@code name} may try a password now. */
  public synchronized boolean mayTry(String name) {
    if (maxFailures == 0) {
      return true;
    }
    Failures f = failures.get(name);
    return f == null || !clock.instant().isBefore(f.lockedUntil);
  }

  /** Records a failed login for {@code name}, locking it once it has failed too often. */
  public synchronized void failed(String name) {
    if (maxFailures == 0) {
      return;
    }
    Failures f = failures.computeIfAbsent(name, n -> new Failures());
    f.count++;
    int over = f.count - maxFailures; // 0 at the failure that reaches the limit
    if (over >= 0) {
      Duration lock = FIRST_LOCK.multipliedBy(1L << Math.min(over, 30));
      if (lock.compareTo(maxLockout) > 0) {
        lock = maxLockout;
      }
      f.lockedUntil = clock.instant().plus(lock);
    }
  }

  /** Records a successful login: {@code name}'s count starts again. */
  public synchronized void succeeded(String name) {
    failures.remove(name);
  }
}
