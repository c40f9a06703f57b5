package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashPasswordTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String stdin, String... args) throws Exception {
    return HashPassword.run(
        List.of(args),
        null,
        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void printsAHashOfThePasswordReadFromStandardInput() throws Exception {
    assertThat(run("correct horse\n", "--iterations", "20000")).isZero();
    String printed = out.toString(StandardCharsets.UTF_8).strip();
    assertThat(printed).startsWith("pbkdf2-sha256:20000:").doesNotContain("correct horse");
    assertThat(PasswordHash.parse(printed).matches("correct horse".toCharArray())).isTrue();
  }

  @Test
  void refusesNoPasswordTooFewIterationsAndUnknownArguments() throws Exception {
    assertThat(run("")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("no password given");
    assertThat(run("pw\n", "--iterations", "100")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("at least 10000");
    assertThat(run("pw\n", "pw")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: quiver hash-password");
    assertThat(out.size()).isZero();
  }
}
