package io.pyml.gateway.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.deployment.DeploymentView;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * The gateway's metrics in the Prometheus Java client's registry, exposed by {@code /metrics}:
 * predictions by model, recorded by the data plane (so every front end counts alike), deploys
 * by outcome, and what the deployments report of themselves (replicas, restarts, admission),
 * read from them at each scrape. Outcomes are "OK" or the gateway's error kind.
 */
public final class GatewayMetrics {
  /** Unknown names are not counted by name: a client must not grow the series without bound. */
  static final String UNKNOWN_MODEL = "(unknown)";
  /** Upper bounds in seconds: sub-millisecond socket hops up to calls near the deadline. */
  static final double[] LATENCY_BUCKETS = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests = Counter.builder()
      .name("pyml_predict_requests_total")
      .help("Predictions by model and outcome (OK or the gateway's error kind).")
      .labelNames("model", "outcome").withoutExemplars().register(registry);
  private final Histogram latency = Histogram.builder()
      .name("pyml_predict_latency_seconds")
      .help("Prediction latency at the gateway, by model.")
      .labelNames("model").classicOnly().classicUpperBounds(LATENCY_BUCKETS)
      .withoutExemplars().register(registry);
  private final Gauge inFlight = Gauge.builder()
      .name("pyml_predict_in_flight")
      .help("Predictions in flight, by model.")
      .labelNames("model").withoutExemplars().register(registry);
  private final Counter deploys = Counter.builder()
      .name("pyml_deploys_total")
      .help("Deploy requests by model and outcome: READY or FAILED once settled, or the error "
          + "kind of a refused request.")
      .labelNames("model", "outcome").withoutExemplars().register(registry);

  /** @param deployments the deployments as they are now, read at each scrape */
  public GatewayMetrics(Supplier<List<DeploymentView>> deployments) {
    registry.register(new DeploymentMetrics(deployments));
  }

  /** Counts the call as in flight until {@code result} completes, then records it. */
  public <T> CompletableFuture<T> track(String model, boolean known, CompletableFuture<T> result) {
    String label = known ? model : UNKNOWN_MODEL;
    long start = System.nanoTime();
    inFlight.labelValues(label).inc();
    return result.whenComplete((value, error) -> {
      inFlight.labelValues(label).dec();
      requests.labelValues(label, outcome(error)).inc();
      latency.labelValues(label).observe((System.nanoTime() - start) / 1e9);
    });
  }

  /** A deploy request of {@code model} ended so: READY, FAILED or the refusal's error kind. */
  public void deployed(String model, String outcome) {
    deploys.labelValues(model, outcome).inc();
  }

  /** Every metric in Prometheus' text exposition format. */
  public byte[] exposition() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TEXT.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // into memory: does not happen
    }
    return out.toByteArray();
  }

  public static String contentType() {
    return TEXT.getContentType();
  }

  /** {@code model}'s figures ({@link ModelStats#NONE} if it was never called). */
  public ModelStats stats(String model) {
    HistogramDataPointSnapshot point = latency.collect().getDataPoints().stream()
        .filter(p -> model.equals(p.getLabels().get("model"))).findFirst().orElse(null);
    if (point == null) {
      return ModelStats.NONE;
    }
    ClassicHistogramBuckets buckets = point.getClassicBuckets();
    long[] perBucket = new long[LATENCY_BUCKETS.length];
    for (int i = 0; i < perBucket.length; i++) {
      perBucket[i] = buckets.getCount(i);
    }
    long calls = point.getCount();
    long ok = requests.collect().getDataPoints().stream()
        .filter(p -> model.equals(p.getLabels().get("model"))
            && "OK".equals(p.getLabels().get("outcome")))
        .mapToLong(p -> (long) p.getValue()).sum();
    return new ModelStats(calls, calls - ok, quantile(perBucket, calls, 0.5),
        quantile(perBucket, calls, 0.99), (long) inFlight.labelValues(model).get());
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
        double lower = i == 0 ? 0 : LATENCY_BUCKETS[i - 1];
        double upper = LATENCY_BUCKETS[i];
        return lower + (upper - lower) * (rank - below) / perBucket[i];
      }
      below += perBucket[i];
    }
    return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1];
  }

  /** "OK", or the kind of the gateway error the call failed with (INTERNAL for any other). */
  public static String outcome(Throwable error) {
    if (error == null) {
      return "OK";
    }
    Throwable cause = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    return cause instanceof GatewayException e ? e.kind().name() : ErrorKind.INTERNAL.name();
  }
}
