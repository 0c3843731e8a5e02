package io.pyml.gateway.core;

import io.grpc.netty.shaded.io.netty.util.HashedWheelTimer;
import io.grpc.netty.shaded.io.netty.util.Timeout;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's timers: every call's deadlines (the front ends' and the deployments'), and the
 * short waits of adaptive batching.
 *
 * <p>Deadlines go on a wheel that ticks every {@link #DEADLINE_TICK} (Netty's
 * HashedWheelTimer): setting one and cancelling it, which every call does, touch a queue and
 * wake no thread. A ScheduledThreadPoolExecutor is signalled whenever a new task becomes the
 * first due: at one call at a time that was each deadline set, two thread wake-ups a call on
 * the 1-row path (7 December). A deadline may run up to a tick late; none of a call's needs
 * to be finer. A cancelled deadline is dropped at the next tick: a finished call is not kept
 * until its deadline would have passed.
 *
 * <p>Batching's wait for more calls is milliseconds long and its precision is the batch's
 * latency, so it stays on a precise timer; it is set only while calls are gathered.
 */
public final class Timeouts {
  /** How late a deadline may run. */
  public static final Duration DEADLINE_TICK = Duration.ofMillis(10);

  /** The deadline timer's thread (its name's prefix). */
  static final String DEADLINE_THREAD = "pyml-call-deadlines";

  private static final HashedWheelTimer DEADLINES = new HashedWheelTimer(
      new DefaultThreadFactory(DEADLINE_THREAD, true), DEADLINE_TICK.toNanos(),
      TimeUnit.NANOSECONDS, 512, false);
  private static final ScheduledThreadPoolExecutor WAITS = waits();

  private Timeouts() {}

  /** Runs {@code onTimeout} after {@code timeout} unless {@code call} completes first. */
  public static void onTimeout(CompletableFuture<?> call, Duration timeout, Runnable onTimeout) {
    Timeout deadline = deadline(onTimeout, timeout);
    call.whenComplete((value, error) -> deadline.cancel());
  }

  /** Runs {@code task} after {@code delay} (up to a tick late) unless cancelled first. */
  public static Timeout deadline(Runnable task, Duration delay) {
    return DEADLINES.newTimeout(timeout -> task.run(), delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Runs {@code task} after {@code delay}, on time; cancelling the result forgets it at once.
   * For short waits set now and then (batching), not for every call (see above).
   */
  public static ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    return WAITS.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ScheduledThreadPoolExecutor waits() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
        new DefaultThreadFactory("pyml-batch-waits", true));
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
