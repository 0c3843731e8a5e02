package io.pyml.gateway.frontend.console;

import io.pyml.gateway.frontend.console.ConsoleViews.OutcomePage;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Actions under way (a deploy waits for READY, which may take minutes): a POST starts one and
 * redirects to its outcome page, which refreshes itself until the action has ended. So no
 * HTTP request waits on a container, and a slow deploy never meets the port's idle timeout.
 * Each outcome belongs to the session that started it; bounded in count (oldest first).
 */
final class ConsoleOutcomes {
  private static final int MAX_OUTCOMES = 1000;

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Pending> outcomes = new LinkedHashMap<>();

  /** {@code page} completes with the outcome (never exceptionally). */
  record Pending(String sessionId, String model, String doing,
      CompletableFuture<OutcomePage> page) {}

  synchronized String start(String sessionId, String model, String doing,
      CompletableFuture<OutcomePage> page) {
    while (outcomes.size() >= MAX_OUTCOMES) {
      Iterator<String> oldest = outcomes.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    outcomes.put(ticket, new Pending(sessionId, model, doing, page));
    return ticket;
  }

  /** The outcome {@code ticket}, if that session started it. */
  synchronized Optional<Pending> find(String sessionId, String ticket) {
    return Optional.ofNullable(outcomes.get(ticket))
        .filter(pending -> pending.sessionId().equals(sessionId));
  }
}
