package io.pyml.gateway.identity;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens verified a moment ago, so that a client sending the same JWT with every call does not
 * pay a signature check on each (an ES256 check took about a millisecond on the shared CI
 * machine; a hit costs a SHA-256 of the token). Only accepted tokens are kept, by their
 * digest, each until it expires or for a short while, whichever is first: a key removed from
 * the set stops its cached tokens within that while. Bounded: when full it is emptied, which
 * costs a re-check per token, never memory.
 */
final class VerifiedTokens {
  private record Entry(String identity, Instant until) {}

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final int capacity;

  VerifiedTokens(int capacity) {
    this.capacity = capacity;
  }

  Optional<String> get(String token, Instant now) {
    Entry entry = entries.get(Tokens.sha256(token));
    return entry != null && now.isBefore(entry.until())
        ? Optional.of(entry.identity()) : Optional.empty();
  }

  void put(String token, String identity, Instant until) {
    if (entries.size() >= capacity) {
      entries.clear();
    }
    entries.put(Tokens.sha256(token), new Entry(identity, until));
  }

  int size() {
    return entries.size();
  }
}
