package io.pyml.gateway.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.pyml.gateway.core.Histogram;
import io.pyml.gateway.deployment.DeploymentView;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * What each deployment reports of itself (replicas, restarts, its admission queue and
 * batches), read at scrape time: the deployments keep these figures anyway, so they are not
 * counted twice. One series per deployed model.
 */
final class DeploymentMetrics implements MultiCollector {
  private final Supplier<List<DeploymentView>> deployments;

  DeploymentMetrics(Supplier<List<DeploymentView>> deployments) {
    this.deployments = deployments;
  }

  @Override
  public MetricSnapshots collect() {
    List<DeploymentView> views = deployments.get();
    return new MetricSnapshots(
        counter(views, "pyml_runtime_restarts",
            "Runtime restarts (crashes, failed health checks), by deployed model.",
            DeploymentView::restarts),
        gauge(views, "pyml_ready_replicas", "Ready replicas, by deployed model.",
            DeploymentView::readyReplicas),
        gauge(views, "pyml_admission_queue_length",
            "Calls waiting for room at a busy runtime, by deployed model.",
            d -> d.admission().queued()),
        counter(views, "pyml_admission_rejections",
            "Calls refused RESOURCE_EXHAUSTED because the admission queue was full, by "
            + "deployed model.", d -> d.admission().rejections()),
        gauge(views, "pyml_admission_bytes_in_flight",
            "Payload bytes of the calls the runtimes hold now, by deployed model.",
            d -> d.admission().bytesInFlight()),
        histogram(views, "pyml_batch_size",
            "Calls sent to a runtime together (adaptive batching; 1 when sent alone), by "
            + "deployed model.", d -> d.admission().batchSizes()),
        histogram(views, "pyml_queue_delay_seconds",
            "Time from a call's arrival at its deployment until it was sent to a runtime, by "
            + "deployed model.", d -> d.admission().queueDelays()));
  }

  /** @param name without {@code _total}: the exposition adds it */
  private static MetricSnapshot counter(List<DeploymentView> views, String name, String help,
      ToDoubleFunction<DeploymentView> value) {
    CounterSnapshot.Builder counter = CounterSnapshot.builder().name(name).help(help);
    views.forEach(d -> counter.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
        .labels(model(d)).value(value.applyAsDouble(d)).build()));
    return counter.build();
  }

  private static MetricSnapshot gauge(List<DeploymentView> views, String name, String help,
      ToDoubleFunction<DeploymentView> value) {
    GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(help);
    views.forEach(d -> gauge.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
        .labels(model(d)).value(value.applyAsDouble(d)).build()));
    return gauge.build();
  }

  private static MetricSnapshot histogram(List<DeploymentView> views, String name, String help,
      Function<DeploymentView, Histogram.Snapshot> value) {
    HistogramSnapshot.Builder histogram = HistogramSnapshot.builder().name(name).help(help);
    views.forEach(d -> {
      Histogram.Snapshot h = value.apply(d);
      histogram.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
          .labels(model(d)).classicHistogramBuckets(buckets(h)).sum(h.sum()).build());
    });
    return histogram.build();
  }

  /** The gateway's cumulative counts as the client's per-bucket ones, +Inf last. */
  private static ClassicHistogramBuckets buckets(Histogram.Snapshot h) {
    double[] bounds = h.bounds();
    long[] cumulative = h.cumulative();
    double[] upper = new double[bounds.length + 1];
    long[] counts = new long[bounds.length + 1];
    for (int i = 0; i <= bounds.length; i++) {
      upper[i] = i < bounds.length ? bounds[i] : Double.POSITIVE_INFINITY;
      counts[i] = cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
    }
    return ClassicHistogramBuckets.of(upper, counts);
  }

  private static Labels model(DeploymentView view) {
    return Labels.of("model", view.name());
  }
}
