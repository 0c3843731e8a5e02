package io.pyml.gateway.deployment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Places a call on the ready replica with the fewest calls in flight that has room for it.
 * The scan starts one further on at each call, so equally loaded replicas take turns
 * (round-robin among ties).
 */
final class LeastLoaded {
  private final AtomicLong turn = new AtomicLong();

  /** The replica that reserved room for {@code bytes}; null when none has room. */
  Replica reserve(List<Replica> replicas, long bytes) {
    int count = replicas.size();
    long start = turn.getAndIncrement();
    // Each count read once: calls end (and counts drop) while we choose, and a sort whose
    // keys change under it can see an inconsistent order.
    List<Candidate> order = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Replica replica = replicas.get((int) Math.floorMod(start + i, (long) count));
      order.add(new Candidate(replica, replica.inFlight()));
    }
    order.sort(Comparator.comparingInt(Candidate::load)); // stable: ties keep their turn
    for (Candidate candidate : order) {
      if (candidate.replica().tryReserve(bytes)) {
        return candidate.replica();
      }
    }
    return null;
  }

  private record Candidate(Replica replica, int load) {}
}
