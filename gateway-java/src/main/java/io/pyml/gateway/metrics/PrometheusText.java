package io.pyml.gateway.metrics;

import io.pyml.gateway.core.Histogram;
import io.pyml.gateway.deployment.DeploymentView;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders the metrics in Prometheus' text exposition format (version 0.0.4). */
public final class PrometheusText {
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private PrometheusText() {}

  public static String render(GatewayMetrics metrics, List<DeploymentView> deployments) {
    StringBuilder out = new StringBuilder();
    Map<String, ModelMetrics> models = metrics.snapshot();
    header(out, "pyml_predict_requests_total", "counter",
        "Predictions by model and outcome (OK or the gateway's error kind).");
    models.forEach((model, m) -> m.byOutcome.forEach((outcome, count) ->
        out.append("pyml_predict_requests_total{model=\"").append(escape(model))
            .append("\",outcome=\"").append(outcome).append("\"} ").append(count.sum())
            .append('\n')));
    header(out, "pyml_predict_latency_seconds", "histogram",
        "Prediction latency at the gateway, by model.");
    models.forEach((model, m) -> histogram(out, escape(model), m));
    header(out, "pyml_predict_in_flight", "gauge", "Predictions in flight, by model.");
    models.forEach((model, m) -> sample(out, "pyml_predict_in_flight", model, m.inFlight.get()));
    header(out, "pyml_runtime_restarts_total", "counter",
        "Runtime restarts (crashes, failed health checks), by deployed model.");
    deployments.forEach(d -> sample(out, "pyml_runtime_restarts_total", d.name(), d.restarts()));
    header(out, "pyml_ready_replicas", "gauge", "Ready replicas, by deployed model.");
    deployments.forEach(d -> sample(out, "pyml_ready_replicas", d.name(), d.readyReplicas()));
    admission(out, deployments);
    return out.toString();
  }

  private static void admission(StringBuilder out, List<DeploymentView> deployments) {
    header(out, "pyml_admission_queue_length", "gauge",
        "Calls waiting for room at a busy runtime, by deployed model.");
    deployments.forEach(d -> sample(out, "pyml_admission_queue_length", d.name(),
        d.admission().queued()));
    header(out, "pyml_admission_rejections_total", "counter",
        "Calls refused RESOURCE_EXHAUSTED because the admission queue was full, by deployed model.");
    deployments.forEach(d -> sample(out, "pyml_admission_rejections_total", d.name(),
        d.admission().rejections()));
    header(out, "pyml_admission_bytes_in_flight", "gauge",
        "Payload bytes of the calls the runtimes hold now, by deployed model.");
    deployments.forEach(d -> sample(out, "pyml_admission_bytes_in_flight", d.name(),
        d.admission().bytesInFlight()));
    header(out, "pyml_batch_size", "histogram",
        "Calls sent to a runtime together (adaptive batching; 1 when sent alone), by deployed "
        + "model.");
    deployments.forEach(d -> histogram(out, "pyml_batch_size", escape(d.name()),
        d.admission().batchSizes()));
    header(out, "pyml_queue_delay_seconds", "histogram",
        "Time from a call's arrival at its deployment until it was sent to a runtime, by "
        + "deployed model.");
    deployments.forEach(d -> histogram(out, "pyml_queue_delay_seconds", escape(d.name()),
        d.admission().queueDelays()));
  }

  private static void histogram(StringBuilder out, String name, String model,
      Histogram.Snapshot h) {
    double[] bounds = h.bounds();
    for (int i = 0; i <= bounds.length; i++) {
      String le = i < bounds.length ? number(bounds[i]) : "+Inf";
      out.append(name).append("_bucket{model=\"").append(model).append("\",le=\"").append(le)
          .append("\"} ").append(h.cumulative()[i]).append('\n');
    }
    out.append(name).append("_sum{model=\"").append(model).append("\"} ")
        .append(number(h.sum())).append('\n');
    out.append(name).append("_count{model=\"").append(model).append("\"} ")
        .append(h.count()).append('\n');
  }

  private static void histogram(StringBuilder out, String model, ModelMetrics m) {
    long cumulative = 0;
    for (int i = 0; i < ModelMetrics.BUCKETS.length; i++) {
      cumulative += m.buckets[i].sum();
      out.append("pyml_predict_latency_seconds_bucket{model=\"").append(model)
          .append("\",le=\"").append(number(ModelMetrics.BUCKETS[i])).append("\"} ")
          .append(cumulative).append('\n');
    }
    long count = m.count.sum();
    out.append("pyml_predict_latency_seconds_bucket{model=\"").append(model)
        .append("\",le=\"+Inf\"} ").append(count).append('\n');
    out.append("pyml_predict_latency_seconds_sum{model=\"").append(model).append("\"} ")
        .append(number(m.sumSeconds.sum())).append('\n');
    out.append("pyml_predict_latency_seconds_count{model=\"").append(model).append("\"} ")
        .append(count).append('\n');
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, String model, long value) {
    out.append(name).append("{model=\"").append(escape(model)).append("\"} ").append(value)
        .append('\n');
  }

  private static String number(double value) {
    return String.format(Locale.ROOT, "%s", value);
  }

  /** Label values: backslash, quote and newline escaped (names are plain, but be safe). */
  private static String escape(String text) {
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
