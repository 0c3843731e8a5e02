package io.pyml.gateway.deployment;

import io.pyml.gateway.core.Histogram;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import java.util.List;

/**
 * How a deployment gathers calls into batches, and what it measured: calls per send (1 for
 * a call sent alone) and each call's queue delay, from its arrival to its send.
 */
final class BatchStats {
  /**
   * Batches one runtime worker works on at once. One: a worker runs one model call at a time,
   * so a second batch would only wait inside it, and the calls it holds could have joined the
   * next.
   */
  static final int BATCHES_PER_WORKER = 1;
  /** Calls in one batch at most: the admission queue's default length, twice over. */
  static final int MAX_BATCH_CALLS = 64;
  /** Payload bytes of one batch at most (a call alone may be larger: it goes as a Predict). */
  static final long MAX_BATCH_BYTES = 64L * 1024 * 1024;
  /** The longest `max_delay_ms` a model's pyml.toml may set (pyml_runtime.config). */
  static final long MAX_DELAY_MS = 1000;
  private static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64};
  private static final double[] DELAYS = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
      5, 10};

  private final Histogram batchSizes = new Histogram(SIZES);
  private final Histogram queueDelays = new Histogram(DELAYS);

  /**
   * The gathering rule for a model's batching settings and a replica's byte budget. The
   * settings come from the runtime, where model code runs: they are held to the bounds
   * `pyml.toml` allows, whatever the runtime reports.
   */
  static AdmissionQueue.Gathering gathering(RuntimeMetadata.Batching batching,
      long bytesPerReplica) {
    int calls = (int) Math.max(1, Math.min(MAX_BATCH_CALLS, batching.maxRows()));
    long delayMs = Math.max(0, Math.min(MAX_DELAY_MS, batching.maxDelayMs()));
    return new AdmissionQueue.Gathering(calls, Math.min(MAX_BATCH_BYTES, bytesPerReplica),
        Duration.ofMillis(delayMs));
  }

  void record(List<? extends AdmissionQueue.Admitted<?>> sent) {
    long now = System.nanoTime();
    batchSizes.record(sent.size());
    sent.forEach(call -> queueDelays.record((now - call.arrivedNanos()) / 1e9));
  }

  Histogram.Snapshot batchSizes() {
    return batchSizes.snapshot();
  }

  Histogram.Snapshot queueDelays() {
    return queueDelays.snapshot();
  }
}
