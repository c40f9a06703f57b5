package dev.quiver.client;

import static java.util.Objects.requireNonNull;

/**
 * A user name and password a {@link QuiverClient} logs in with (Flight's Basic handshake), to get
 * the bearer token it sends on every call.
 *
 * @param user the user name
 * @param password the password; never printed by {@link #toString()}
 */
public record Credentials(String user, String password) {
  public Credentials {
    requireNonNull(user, "user is null");
    requireNonNull(password, "password is null");
  }

  @Override
  public String toString() {
    return "Credentials{user=" + user + ", password=***}";
  }
}
