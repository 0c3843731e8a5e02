package io.pyml.gateway.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** One model's counters: calls by outcome, a latency histogram, calls in flight. Lock-free. */
final class ModelMetrics {
  /** Upper bounds in seconds: sub-millisecond socket hops up to calls near the deadline. */
  static final double[] BUCKETS = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  final Map<String, LongAdder> byOutcome = new ConcurrentHashMap<>();
  final LongAdder[] buckets = new LongAdder[BUCKETS.length];
  final LongAdder count = new LongAdder();
  final DoubleAdder sumSeconds = new DoubleAdder();
  final AtomicLong inFlight = new AtomicLong();

  ModelMetrics() {
    for (int i = 0; i < buckets.length; i++) {
      buckets[i] = new LongAdder();
    }
  }

  void record(String outcome, double seconds) {
    byOutcome.computeIfAbsent(outcome, o -> new LongAdder()).increment();
    count.increment();
    sumSeconds.add(seconds);
    for (int i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        buckets[i].increment(); // stored per bucket; the renderer makes them cumulative
        return;
      }
    }
  }
}
