package io.pyml.gateway.deployment;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One timer thread for every call's deadline. A timeout is cancelled, and dropped from the
 * timer's queue, as soon as its call ends: a finished call's answer is not kept until its
 * deadline would have passed (CompletableFuture's own delayed executor cannot forget a task).
 */
final class Timeouts {
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private Timeouts() {}

  /** Runs {@code onTimeout} after {@code timeout} unless {@code call} completes first. */
  static void onTimeout(CompletableFuture<?> call, Duration timeout, Runnable onTimeout) {
    ScheduledFuture<?> task = TIMER.schedule(onTimeout, timeout.toNanos(), TimeUnit.NANOSECONDS);
    call.whenComplete((value, error) -> task.cancel(false));
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
