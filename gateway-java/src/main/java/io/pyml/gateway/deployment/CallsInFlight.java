package io.pyml.gateway.deployment;

import java.time.Duration;

/**
 * The client calls a deployment took and has not answered yet, and when the last of them must
 * end. A deployment that is replaced or undeployed waits on this before it closes its runtimes,
 * so a call it took is never cut (the drain). The wait is bounded by the calls' own deadlines,
 * which the channel enforces: no separate drain timeout to tune.
 *
 * <p>It also keeps the most calls there were at once lately (the load's concurrency), which
 * tells batching how many calls a batch can expect to gather.
 */
final class CallsInFlight {
  /** Past the last deadline, the channel has failed the call: this is only a safety margin. */
  private static final long SLACK_NANOS = Duration.ofSeconds(1).toNanos();

  private final long peakWindowNanos;
  // Guarded by this.
  private int count;
  private long lastDeadlineNanos = System.nanoTime();
  private int peak;
  private int previousPeak;
  private long peakWindowStart = System.nanoTime();

  CallsInFlight() {
    this(Duration.ofMillis(500));
  }

  /** @param peakWindow the peak is that of the current window and the one before it */
  CallsInFlight(Duration peakWindow) {
    this.peakWindowNanos = peakWindow.toNanos();
  }

  synchronized void enter(Duration timeout) {
    count++;
    long now = System.nanoTime();
    rollPeakWindow(now);
    peak = Math.max(peak, count);
    long deadline = now + timeout.toNanos();
    if (deadline - lastDeadlineNanos > 0) {
      lastDeadlineNanos = deadline;
    }
  }

  synchronized void exit() {
    count--;
    if (count == 0) {
      notifyAll();
    }
  }

  /**
   * The most calls that were in flight at once in the last one to two peak windows: a load
   * that stopped is forgotten within two windows.
   */
  synchronized int recentPeak() {
    rollPeakWindow(System.nanoTime());
    return Math.max(peak, previousPeak);
  }

  /** A new window starts with the calls in flight now; the one before it ended long ago. */
  private void rollPeakWindow(long now) {
    long age = now - peakWindowStart;
    if (age >= peakWindowNanos) {
      previousPeak = age < 2 * peakWindowNanos ? peak : 0;
      peak = count;
      peakWindowStart = now;
    }
  }

  /** Blocks until no call is in flight, or the last one's deadline has passed. */
  synchronized void awaitNone() throws InterruptedException {
    awaitNone(lastDeadlineNanos + SLACK_NANOS);
  }

  /**
   * Blocks until no call is in flight, the last one's deadline has passed, or {@code most}
   * has (the gateway's shutdown grace); true when none is left.
   */
  synchronized boolean awaitNone(Duration most) throws InterruptedException {
    long bound = System.nanoTime() + most.toNanos();
    long last = lastDeadlineNanos + SLACK_NANOS;
    awaitNone(last - bound < 0 ? last : bound);
    return count == 0;
  }

  private void awaitNone(long until) throws InterruptedException {
    long left = until - System.nanoTime();
    while (count > 0 && left > 0) {
      wait(Math.max(1, left / 1_000_000));
      left = until - System.nanoTime();
    }
  }
}
