package io.pyml.gateway.frontend.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.frontend.console.ConsoleSessions.Session;
import io.pyml.gateway.identity.Credentials;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConsoleSessionsTest {
  /** A clock the test moves. */
  static final class MovingClock extends Clock {
    Instant now = Instant.parse("2026-12-05T20:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static final Credentials ALICE = Credentials.fromAuthorization("Bearer pyml_alice");

  @Test
  void aSessionKeepsItsCredentialsUntilItExpires() {
    MovingClock clock = new MovingClock();
    ConsoleSessions sessions = new ConsoleSessions(10, Duration.ofHours(1), clock);
    Session session = sessions.open(ALICE);
    assertEquals(Optional.of(session), sessions.find(session.id()));
    assertEquals(ALICE, sessions.find(session.id()).orElseThrow().credentials());
    clock.now = clock.now.plus(Duration.ofMinutes(59));
    assertTrue(sessions.find(session.id()).isPresent());
    clock.now = clock.now.plus(Duration.ofMinutes(1));
    assertEquals(Optional.empty(), sessions.find(session.id()));
    assertEquals(0, sessions.size(), "an expired session is forgotten");
  }

  @Test
  void idsAndCsrfTokensAreRandomAndDistinct() {
    ConsoleSessions sessions = new ConsoleSessions();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      Session session = sessions.open(ALICE);
      assertNotEquals(session.id(), session.csrf());
      assertTrue(seen.add(session.id()) && seen.add(session.csrf()));
      assertTrue(session.id().length() >= 43, "256 random bits, base64url");
    }
  }

  @Test
  void theCountIsBoundedAndTheOldestGoesFirst() {
    ConsoleSessions sessions = new ConsoleSessions(3, Duration.ofHours(1), new MovingClock());
    Session first = sessions.open(ALICE);
    Session second = sessions.open(ALICE);
    sessions.open(ALICE);
    sessions.open(ALICE);
    assertEquals(3, sessions.size());
    assertFalse(sessions.find(first.id()).isPresent());
    assertTrue(sessions.find(second.id()).isPresent());
  }

  @Test
  void signingOutEndsTheSessionAndUnknownIdsFindNothing() {
    ConsoleSessions sessions = new ConsoleSessions();
    Session session = sessions.open(ALICE);
    sessions.close(session.id());
    assertEquals(Optional.empty(), sessions.find(session.id()));
    assertEquals(Optional.empty(), sessions.find(null));
    assertEquals(Optional.empty(), sessions.find("forged"));
  }

  @Test
  void onlyTheSessionsOwnCsrfTokenMatches() {
    ConsoleSessions sessions = new ConsoleSessions();
    Session mine = sessions.open(ALICE);
    Session other = sessions.open(ALICE);
    assertTrue(ConsoleSessions.csrfMatches(mine, mine.csrf()));
    assertFalse(ConsoleSessions.csrfMatches(mine, other.csrf()));
    assertFalse(ConsoleSessions.csrfMatches(mine, ""));
    assertFalse(ConsoleSessions.csrfMatches(mine, null));
    assertFalse(ConsoleSessions.csrfMatches(mine, mine.csrf().substring(1)));
    assertFalse(ConsoleSessions.csrfMatches(mine, mine.csrf() + "x"));
  }

  @Test
  void nonsenseLimitsAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new ConsoleSessions(0, Duration.ofHours(1), new MovingClock()));
    assertThrows(IllegalArgumentException.class,
        () -> new ConsoleSessions(1, Duration.ZERO, new MovingClock()));
  }
}
