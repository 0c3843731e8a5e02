package io.pyml.gateway.metrics;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Prediction metrics by model, recorded by the dispatcher (so every front end counts alike)
 * and read by the Prometheus endpoint. Outcomes are "OK" or the gateway's error kind.
 */
public final class GatewayMetrics {
  /** Unknown names are not counted by name: a client must not grow this map without bound. */
  static final String UNKNOWN_MODEL = "(unknown)";

  private final Map<String, ModelMetrics> models = new ConcurrentHashMap<>();

  /** Counts the call as in flight until {@code result} completes, then records it. */
  public <T> CompletableFuture<T> track(String model, boolean known, CompletableFuture<T> result) {
    ModelMetrics metrics = models.computeIfAbsent(known ? model : UNKNOWN_MODEL,
        m -> new ModelMetrics());
    long start = System.nanoTime();
    metrics.inFlight.incrementAndGet();
    return result.whenComplete((value, error) -> {
      metrics.inFlight.decrementAndGet();
      metrics.record(outcome(error), (System.nanoTime() - start) / 1e9);
    });
  }

  /** A snapshot sorted by model name, for rendering. */
  Map<String, ModelMetrics> snapshot() {
    return new TreeMap<>(models);
  }

  /** {@code model}'s figures ({@link ModelStats#NONE} if it was never called). */
  public ModelStats stats(String model) {
    ModelMetrics metrics = models.get(model);
    if (metrics == null) {
      return ModelStats.NONE;
    }
    long[] perBucket = new long[ModelMetrics.BUCKETS.length];
    for (int i = 0; i < perBucket.length; i++) {
      perBucket[i] = metrics.buckets[i].sum();
    }
    long calls = metrics.count.sum();
    long ok = metrics.byOutcome.getOrDefault("OK", new LongAdder())
        .sum();
    return new ModelStats(calls, calls - ok, quantile(perBucket, calls, 0.5),
        quantile(perBucket, calls, 0.99), metrics.inFlight.get());
  }

  /**
   * The {@code q} quantile of {@code calls} values counted per bucket, interpolated linearly
   * inside its bucket as Prometheus' histogram_quantile does; the last bound if beyond it.
   */
  static double quantile(long[] perBucket, long calls, double q) {
    if (calls == 0) {
      return 0;
    }
    double rank = q * calls;
    long below = 0;
    for (int i = 0; i < perBucket.length; i++) {
      if (below + perBucket[i] >= rank && perBucket[i] > 0) {
        double lower = i == 0 ? 0 : ModelMetrics.BUCKETS[i - 1];
        double upper = ModelMetrics.BUCKETS[i];
        return lower + (upper - lower) * (rank - below) / perBucket[i];
      }
      below += perBucket[i];
    }
    return ModelMetrics.BUCKETS[ModelMetrics.BUCKETS.length - 1];
  }

  static String outcome(Throwable error) {
    if (error == null) {
      return "OK";
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    return cause instanceof GatewayException e ? e.kind().name() : ErrorKind.INTERNAL.name();
  }
}
