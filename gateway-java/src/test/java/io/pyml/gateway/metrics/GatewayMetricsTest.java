package io.pyml.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The figures the console shows: calls, errors and latency quantiles from the histogram. */
class GatewayMetricsTest {
  @Test
  void statsCountCallsAndErrors() {
    GatewayMetrics metrics = new GatewayMetrics();
    assertEquals(ModelStats.NONE, metrics.stats("m"));
    metrics.track("m", true, CompletableFuture.completedFuture(1));
    metrics.track("m", true, CompletableFuture.failedFuture(
        new GatewayException(ErrorKind.MODEL_ERROR, "boom")));
    ModelStats stats = metrics.stats("m");
    assertEquals(2, stats.calls());
    assertEquals(1, stats.errors());
    assertEquals(0, stats.inFlight());
  }

  @Test
  void quantilesInterpolateInsideTheirBucket() {
    long[] perBucket = new long[ModelMetrics.BUCKETS.length];
    perBucket[0] = 50; // <= 0.5 ms
    perBucket[2] = 50; // 1 ms .. 2.5 ms
    assertEquals(0.0005, GatewayMetrics.quantile(perBucket, 100, 0.5), 1e-12);
    assertEquals(0.001 + 0.0015 * 49 / 50, GatewayMetrics.quantile(perBucket, 100, 0.99),
        1e-12);
    assertEquals(0, GatewayMetrics.quantile(perBucket, 0, 0.5));
    long[] beyond = new long[ModelMetrics.BUCKETS.length]; // every call above the last bound
    assertEquals(30, GatewayMetrics.quantile(beyond, 10, 0.5));
  }
}
