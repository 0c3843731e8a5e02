package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens in a real SQLite file: shown once, stored hashed, revocable, kept across restarts. */
class TokensTest {
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-05T20:00:00Z"), ZoneOffset.UTC);

  @TempDir
  Path folder;

  String url() {
    return "jdbc:sqlite:" + folder.resolve("identities.db");
  }

  @Test
  void aTokenIdentifiesItsOwnerUntilRevokedAndSurvivesARestart() throws Exception {
    Tokens.Issued issued;
    try (JdbcIdentityStore store = JdbcIdentityStore.open(url())) {
      Tokens tokens = new Tokens(store, CLOCK);
      issued = tokens.create("alice");
      assertTrue(issued.token().startsWith("pyml_" + issued.info().id() + "_"));
      assertEquals(Optional.of("alice"), tokens.identify(issued.token()));
      assertEquals(List.of(issued.info()), tokens.list());
    }
    // Only a hash of the secret is on disk. The secret is all after "pyml_<id>_": base64url,
    // it may hold '_' itself (cut at its last '_', a few characters were found in the file by
    // chance: a flaky test, 7 December).
    String secret = issued.token().substring(("pyml_" + issued.info().id() + "_").length());
    assertEquals(43, secret.length()); // 32 random bytes
    assertFalse(new String(Files.readAllBytes(folder.resolve("identities.db")),
        java.nio.charset.StandardCharsets.ISO_8859_1).contains(secret));
    try (JdbcIdentityStore store = JdbcIdentityStore.open(url())) { // migrated once, reopened
      Tokens tokens = new Tokens(store, CLOCK);
      assertEquals(Optional.of("alice"), tokens.identify(issued.token()));
      assertTrue(tokens.revoke(issued.info().id()));
      assertFalse(tokens.revoke(issued.info().id()));
      assertEquals(Optional.empty(), tokens.identify(issued.token()));
      assertEquals(Optional.of(CLOCK.instant()), tokens.list().get(0).revoked());
    }
  }

  @Test
  void aWrongSecretOrAFuzzedTokenIdentifiesNobody() {
    try (JdbcIdentityStore store = JdbcIdentityStore.open(url())) {
      Tokens tokens = new Tokens(store, CLOCK);
      String token = tokens.create("bob").token();
      char last = token.charAt(token.length() - 1);
      String wrong = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
      assertEquals(Optional.empty(), tokens.identify(wrong));
      Random random = new Random(14);
      for (int i = 0; i < 2_000; i++) { // bounded: random strings, prefixes, over-long
        byte[] bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        String fuzz = i % 3 == 0 ? token.substring(0, random.nextInt(token.length()))
            : new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(Optional.empty(), tokens.identify(fuzz), fuzz);
      }
      assertEquals(Optional.empty(), tokens.identify(null));
      assertEquals(Optional.empty(), tokens.identify(token + "x".repeat(200)));
    }
  }
}
