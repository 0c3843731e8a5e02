package io.pyml.gateway.frontend.console;

import io.pyml.gateway.identity.Credentials;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The console's signed-in browsers: a random session id (the cookie) maps, in memory only, to
 * the credentials given at sign-in and a per-session CSRF token that every form posts back.
 * Bounded in count (the oldest session goes first) and in lifetime; a restart signs everyone
 * out. The credentials are checked again by the data plane at every use, so a revoked token
 * ends its sessions' rights at once.
 */
public final class ConsoleSessions {
  static final int DEFAULT_MAX_SESSIONS = 1000;
  static final Duration DEFAULT_LIFETIME = Duration.ofHours(8);
  private static final int ID_BYTES = 32;

  private final int maxSessions;
  private final Duration lifetime;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  /** In creation order, so the oldest is evicted first. */
  private final Map<String, Session> sessions = new LinkedHashMap<>();

  /** A signed-in browser. {@code csrf} is what its forms must post back. */
  public record Session(String id, String csrf, Credentials credentials, Instant expires) {}

  public ConsoleSessions(int maxSessions, Duration lifetime, Clock clock) {
    if (maxSessions < 1 || lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("sessions need a count >= 1 and a positive lifetime");
    }
    this.maxSessions = maxSessions;
    this.lifetime = lifetime;
    this.clock = clock;
  }

  public ConsoleSessions() {
    this(DEFAULT_MAX_SESSIONS, DEFAULT_LIFETIME, Clock.systemUTC());
  }

  public Duration lifetime() {
    return lifetime;
  }

  /** A new session for {@code credentials}; the oldest one goes when the store is full. */
  public synchronized Session open(Credentials credentials) {
    dropExpired();
    while (sessions.size() >= maxSessions) {
      Iterator<String> oldest = sessions.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
    Session session = new Session(randomId(), randomId(), credentials,
        clock.instant().plus(lifetime));
    sessions.put(session.id(), session);
    return session;
  }

  /** The live session with this id; an expired one is forgotten. */
  public synchronized Optional<Session> find(String id) {
    if (id == null) {
      return Optional.empty();
    }
    Session session = sessions.get(id);
    if (session != null && !clock.instant().isBefore(session.expires())) {
      sessions.remove(id);
      return Optional.empty();
    }
    return Optional.ofNullable(session);
  }

  public synchronized void close(String id) {
    sessions.remove(id);
  }

  public synchronized int size() {
    return sessions.size();
  }

  /** Whether {@code presented} is the session's CSRF token (in constant time). */
  public static boolean csrfMatches(Session session, String presented) {
    return presented != null && MessageDigest.isEqual(
        session.csrf().getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8));
  }

  private void dropExpired() {
    Instant now = clock.instant();
    sessions.values().removeIf(s -> !now.isBefore(s.expires()));
  }

  private String randomId() {
    byte[] bytes = new byte[ID_BYTES];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
