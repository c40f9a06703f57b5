package dev.quiver.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsersFileTest {
  @TempDir Path dir;

  private static final String HASH =
      PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS).toString();

  private UsersFile load(String text) throws Exception {
    Path file = dir.resolve("users");
    Files.writeString(file, text);
    return UsersFile.load(file);
  }

  @Test
  void readsUsersAndTheirGrantsSkippingCommentsAndBlankLines() throws Exception {
    UsersFile users =
        load(
            "# name hash grants\n\n"
                + "alice  "
                + HASH
                + "  sales=read,write  *=read\n"
                + "ops\t"
                + HASH
                + "\t*=admin,read,write\n"
                + "nobody "
                + HASH
                + "\n");

    assertThat(users.size()).isEqualTo(3);
    User alice = users.user("alice").orElseThrow();
    assertThat(alice.grants()).containsEntry("sales", Set.of(Right.READ, Right.WRITE));
    assertThat(alice.may(Right.READ, "anything")).isTrue();
    assertThat(alice.may(Right.WRITE, "sales")).isTrue();
    assertThat(alice.may(Right.WRITE, "other")).isFalse();
    assertThat(alice.may(Right.ADMIN, "sales")).isFalse();
    assertThat(alice.password().matches("pw".toCharArray())).isTrue();
    assertThat(users.user("ops").orElseThrow().may(Right.ADMIN, "x")).isTrue();
    assertThat(users.user("nobody").orElseThrow().may(Right.READ, "x")).isFalse();
    assertThat(users.user("mallory")).isEmpty();
  }

  @Test
  void malformedEntriesNameTheLineAndNeverEchoTheHash() {
    assertThatThrownBy(() -> load("alice " + HASH + " sales=read,delete\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith(
            "line 1: Unknown right 'delete': use read, write or admin, separated by commas");
    assertThatThrownBy(() -> load("\nalice " + HASH + " ../etc=read\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2: a grant reads namespace=rights");
    assertThatThrownBy(() -> load("alice password123 *=read\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 1 (user alice): A password hash reads")
        .hasMessageNotContaining("password123");
    assertThatThrownBy(() -> load("alice " + HASH + "\nalice " + HASH + "\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2: user alice appears twice");
    assertThatThrownBy(() -> load("al/ice " + HASH + "\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("user names match");
  }
}
