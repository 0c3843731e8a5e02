package io.pyml.gateway.metrics;

/**
 * A model's prediction figures since the gateway started, for people (the console).
 *
 * @param calls predictions answered, whatever the outcome
 * @param errors those that did not end OK
 * @param p50Seconds the median latency, estimated within its histogram bucket (0: no calls)
 * @param p99Seconds the 99th percentile, likewise
 */
public record ModelStats(long calls, long errors, double p50Seconds, double p99Seconds,
    long inFlight) {
  public static final ModelStats NONE = new ModelStats(0, 0, 0, 0, 0);
}
