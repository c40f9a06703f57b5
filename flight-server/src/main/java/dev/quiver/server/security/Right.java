package dev.quiver.server.security;

import java.util.Locale;

/**
 * What a user may do in a namespace. The rights are independent: write does not imply read, and
 * admin implies neither (grant {@code read,write,admin} for all three).
 */
public enum Right {
  /** Scan a table, see it listed, read its schema and snapshots, name it in a SQL query. */
  READ,
  /** Put into a table (DoPut, bulk ingest, INSERT, CREATE TABLE), drop it. */
  WRITE,
  /** Administration: the server-wide actions need it on {@code *} (see docs/architecture.md). */
  ADMIN;

  /** The lower-case name, as the users file writes it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The right named {@code text} (read, write or admin, any case). */
  public static Right parse(String text) {
    for (Right right : values()) {
      if (right.label().equalsIgnoreCase(text.trim())) {
        return right;
      }
    }
    throw new IllegalArgumentException(
        "Unknown right '" + text + "': use read, write or admin, separated by commas");
  }
}
