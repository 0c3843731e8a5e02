package io.pyml.gateway.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One timer thread for every call's deadlines, the front ends' and the deployments'. A timeout
 * is cancelled, and dropped from the timer's queue, as soon as its call ends: a finished call
 * is not kept until its deadline would have passed (CompletableFuture's own delayed executor
 * cannot forget a task).
 */
public final class Timeouts {
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private Timeouts() {}

  /** Runs {@code onTimeout} after {@code timeout} unless {@code call} completes first. */
  public static void onTimeout(CompletableFuture<?> call, Duration timeout, Runnable onTimeout) {
    ScheduledFuture<?> task = schedule(onTimeout, timeout);
    call.whenComplete((value, error) -> task.cancel(false));
  }

  /** Runs {@code task} after {@code delay}; cancelling the result forgets it at once. */
  public static ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    return TIMER.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "pyml-call-deadlines");
      thread.setDaemon(true);
      return thread;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
