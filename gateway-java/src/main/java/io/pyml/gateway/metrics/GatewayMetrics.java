package io.pyml.gateway.metrics;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

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

  static String outcome(Throwable error) {
    if (error == null) {
      return "OK";
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    return cause instanceof GatewayException e ? e.kind().name() : ErrorKind.INTERNAL.name();
  }
}
