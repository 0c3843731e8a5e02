package io.pyml.gateway.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HistogramTest {
  @Test
  void bucketsAreCumulativeWithTheTotalLast() {
    Histogram histogram = new Histogram(1, 2, 4);
    for (double value : new double[] {1, 1, 2, 3, 4, 9}) {
      histogram.record(value);
    }
    Histogram.Snapshot snapshot = histogram.snapshot();
    assertArrayEquals(new long[] {2, 3, 5, 6}, snapshot.cumulative());
    assertEquals(6, snapshot.count());
    assertEquals(20.0, snapshot.sum());
  }
}
