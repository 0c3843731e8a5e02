package io.pyml.gateway.deployment;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Picks the ready replica with the fewest calls in flight. The scan starts one further on at
 * each call, so equally loaded replicas take turns (round-robin among ties).
 */
final class LeastLoaded {
  private final AtomicLong turn = new AtomicLong();

  Optional<Replica> pick(List<Replica> replicas) {
    int count = replicas.size();
    long start = turn.getAndIncrement();
    Replica best = null;
    for (int i = 0; i < count; i++) {
      Replica candidate = replicas.get((int) Math.floorMod(start + i, (long) count));
      if (candidate.isReady() && (best == null || candidate.inFlight() < best.inFlight())) {
        best = candidate;
      }
    }
    return Optional.ofNullable(best);
  }
}
