package io.pyml.gateway.core;

import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** A lock-free histogram with fixed upper bounds, read as a Prometheus histogram. */
public final class Histogram {
  private final double[] bounds;
  private final LongAdder[] counts; // one per bound, then one above the last
  private final DoubleAdder sum = new DoubleAdder();

  public Histogram(double... bounds) {
    this.bounds = bounds.clone();
    this.counts = new LongAdder[bounds.length + 1];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  public void record(double value) {
    int i = 0;
    while (i < bounds.length && value > bounds[i]) {
      i++;
    }
    counts[i].increment();
    sum.add(value);
  }

  public Snapshot snapshot() {
    long[] cumulative = new long[bounds.length + 1];
    long running = 0;
    for (int i = 0; i < counts.length; i++) {
      running += counts[i].sum();
      cumulative[i] = running;
    }
    return new Snapshot(bounds.clone(), cumulative, sum.sum());
  }

  /**
   * @param bounds the upper bounds
   * @param cumulative the count at or below each bound, then the total (the +Inf bucket)
   */
  public record Snapshot(double[] bounds, long[] cumulative, double sum) {
    public long count() {
      return cumulative[cumulative.length - 1];
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Snapshot s && Arrays.equals(bounds, s.bounds)
          && Arrays.equals(cumulative, s.cumulative) && sum == s.sum;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(cumulative);
    }

    @Override
    public String toString() {
      return "Snapshot" + Arrays.toString(cumulative) + " sum " + sum;
    }
  }
}
