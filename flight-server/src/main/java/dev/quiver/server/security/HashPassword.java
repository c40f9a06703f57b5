package dev.quiver.server.security;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * {@code quiver-server hash-password [--iterations N]}: reads a password (twice, without echo, from
 * a terminal; else one line of standard input) and prints its users-file hash.
 *
 * <p>The password never appears on the command line, where other users of the machine could see it
 * in the process list.
 */
public final class HashPassword {
  /** The first command-line argument that selects this command. */
  public static final String COMMAND = "hash-password";

  private HashPassword() {}

  /** Runs the command; returns the process exit code. */
  public static int run(List<String> args) throws IOException {
    return run(args, System.console(), System.in, System.out, System.err);
  }

  static int run(
      List<String> args, Console console, java.io.InputStream in, PrintStream out, PrintStream err)
      throws IOException {
    int iterations = PasswordHash.DEFAULT_ITERATIONS;
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--iterations") && i + 1 < args.size()) {
        try {
          iterations = Integer.parseInt(args.get(++i));
        } catch (NumberFormatException e) {
          err.println("quiver: --iterations takes a whole number");
          return 2;
        }
      } else {
        err.println(
            "usage: quiver "
                + COMMAND
                + " [--iterations N]  (reads the password from the terminal or stdin)");
        return 2;
      }
    }
    if (iterations < PasswordHash.MIN_ITERATIONS) {
      err.println("quiver: --iterations must be at least " + PasswordHash.MIN_ITERATIONS);
      return 2;
    }
    char[] password = readPassword(console, in, err);
    if (password == null || password.length == 0) {
      err.println("quiver: no password given");
      return 2;
    }
    try {
      out.println(PasswordHash.create(password, iterations));
      return 0;
    } finally {
      Arrays.fill(password, '\0');
    }
  }

  private static char[] readPassword(Console console, java.io.InputStream in, PrintStream err)
      throws IOException {
    if (console != null) {
      char[] first = console.readPassword("Password: ");
      char[] again = console.readPassword("Again: ");
      try {
        if (first == null || !Arrays.equals(first, again)) {
          err.println("quiver: the passwords differ");
          return null;
        }
        return first.clone();
      } finally {
        if (first != null) {
          Arrays.fill(first, '\0');
        }
        if (again != null) {
          Arrays.fill(again, '\0');
        }
      }
    }
    String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
    return line == null ? null : line.toCharArray();
  }
}
