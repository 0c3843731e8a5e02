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
    List<Replica> order = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      order.add(replicas.get((int) Math.floorMod(start + i, (long) count)));
    }
    order.sort(Comparator.comparingInt(Replica::inFlight)); // stable: ties keep their turn
    for (Replica candidate : order) {
      if (candidate.tryReserve(bytes)) {
        return candidate;
      }
    }
    return null;
  }
}
