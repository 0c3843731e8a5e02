package io.pyml.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The figures the console shows: calls, errors and latency quantiles from the histogram. */
class GatewayMetricsTest {
  @Test
  void statsCountCallsAndErrors() {
    GatewayMetrics metrics = new GatewayMetrics(List::of);
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
    long[] perBucket = new long[GatewayMetrics.LATENCY_BUCKETS.length];
    perBucket[0] = 50; // <= 0.5 ms
    perBucket[2] = 50; // 1 ms .. 2.5 ms
    assertEquals(0.0005, GatewayMetrics.quantile(perBucket, 100, 0.5), 1e-12);
    assertEquals(0.001 + 0.0015 * 49 / 50, GatewayMetrics.quantile(perBucket, 100, 0.99),
        1e-12);
    assertEquals(0, GatewayMetrics.quantile(perBucket, 0, 0.5));
    long[] beyond = new long[GatewayMetrics.LATENCY_BUCKETS.length]; // every call above the last bound
    assertEquals(30, GatewayMetrics.quantile(beyond, 10, 0.5));
  }

  @Test
  void deploysAreCountedByModelAndOutcomeInTheExposition() {
    GatewayMetrics metrics = new GatewayMetrics(List::of);
    metrics.deployed("m", "READY");
    metrics.deployed("m", "READY");
    metrics.deployed("m", "FAILED");
    metrics.deployed("m", "INVALID_INPUT");
    String text = new String(metrics.exposition(), StandardCharsets.UTF_8);
    assertTrue(text.contains("# TYPE pyml_deploys_total counter\n"), text);
    assertTrue(text.contains("pyml_deploys_total{model=\"m\",outcome=\"READY\"} 2.0\n"), text);
    assertTrue(text.contains("pyml_deploys_total{model=\"m\",outcome=\"FAILED\"} 1.0\n"), text);
    assertTrue(text.contains("pyml_deploys_total{model=\"m\",outcome=\"INVALID_INPUT\"} 1.0\n"),
        text);
  }

  @Test
  void aModelNameIsEscapedInItsLabel() {
    GatewayMetrics metrics = new GatewayMetrics(List::of);
    metrics.track("a\"b\nc", true, CompletableFuture.completedFuture(1));
    String text = new String(metrics.exposition(), StandardCharsets.UTF_8);
    assertTrue(text.contains("pyml_predict_requests_total{model=\"a\\\"b\\nc\",outcome=\"OK\"} 1.0"),
        text);
  }
}
