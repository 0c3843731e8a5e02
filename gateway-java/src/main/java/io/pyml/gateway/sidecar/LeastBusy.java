package io.pyml.gateway.sidecar;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

/**
 * Chooses among a runtime's workers: the one with the fewest calls in flight; the scan starts
 * one further on at each choice, so equally busy workers take turns (round-robin among ties,
 * and idle workers in order, one after the other).
 */
final class LeastBusy {
  private final AtomicLong turn = new AtomicLong();

  /** The index, 0 to {@code count - 1}, of the least busy by {@code callsInFlight}. */
  int choose(int count, IntUnaryOperator callsInFlight) {
    int start = (int) Math.floorMod(turn.getAndIncrement(), (long) count);
    int best = start;
    int bestLoad = callsInFlight.applyAsInt(start);
    for (int i = 1; i < count && bestLoad > 0; i++) {
      int candidate = (start + i) % count;
      int load = callsInFlight.applyAsInt(candidate);
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }
}
