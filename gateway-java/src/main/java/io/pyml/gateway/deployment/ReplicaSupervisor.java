package io.pyml.gateway.deployment;

import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * Keeps one replica serving, on its own thread, for the deployment's whole life: start it,
 * watch it (exit at once, health every 250 ms while calls are in flight, every second while
 * none is), and when it dies or stops answering for a second and three checks take it out of
 * routing, stop it and start a new one after a capped exponential backoff.
 * A failure of the model before the deployment was ever READY fails the deployment (a bad
 * model does not loop); five failed restarts in a row end it FAILED with the last logs (a crash
 * loop). Backoff before restart n of a row: 0.5 s doubling to at most 10 s. A runtime stuck in
 * model code (see {@link Replica#stuck}) is replaced the same way, though it still answers
 * health. Failed starts that are not the model's fault (Docker away, the runtime killed from
 * outside while it loaded) are retried by the {@link RetryPolicy}, first start or not, until
 * its window is spent.
 *
 * <p>A replica restored at the gateway's start may first adopt the runtime a previous run of
 * the gateway left serving; when that runtime fails its checks, a new one is started.
 */
final class ReplicaSupervisor implements Runnable {
  private static final Logger LOG = Logger.getLogger(ReplicaSupervisor.class.getName());
  /** Health checks while calls are in flight: they wait on a runtime that may be frozen. */
  static final Duration CHECK_PERIOD = Duration.ofMillis(250);
  /**
   * Health checks while no call is: each costs a worker about 1.5 ms of CPU (grpcio's server),
   * and every 250 ms that held about 0.6% of a CPU per idle worker (8 December). A frozen idle
   * runtime is found in about 4.5 s instead of 2.3 s, with no call waiting on it meanwhile.
   */
  static final Duration IDLE_CHECK_PERIOD = Duration.ofSeconds(1);
  static final Duration HEALTH_DEADLINE = Duration.ofMillis(500);
  /** Unanswered health for this long (and at least MIN_MISSED checks) means hung. */
  static final Duration UNHEALTHY_AFTER = Duration.ofSeconds(1);
  static final int MIN_MISSED = 3;
  static final int MAX_FAILED_RESTARTS = 5;
  /** A runtime that served this long before dying was not crash-looping. */
  static final Duration STABLE_AFTER = Duration.ofSeconds(10);

  private final Deployment deployment;
  private final Replica replica;
  private final RuntimeStarter starter;
  private final RetryPolicy retry;
  private RunningSidecar adopted; // taken by the first attempt

  /** Why a running runtime was taken down. */
  private record Down(String reason, List<String> logLines) {}

  ReplicaSupervisor(Deployment deployment, Replica replica, RuntimeStarter starter,
      RetryPolicy retry, Optional<RunningSidecar> adopted) {
    this.deployment = deployment;
    this.replica = replica;
    this.starter = starter;
    this.retry = retry;
    this.adopted = adopted.orElse(null);
  }

  @Override
  public void run() {
    try {
      supervise();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failAndRelease("deploy interrupted (the gateway is stopping)", List.of());
    } catch (RuntimeException e) {
      LOG.severe("supervisor of model '" + deployment.name() + "' replica " + replica.index()
          + " failed: " + e);
      failAndRelease("internal gateway error: " + e, List.of());
    }
  }

  private void supervise() throws InterruptedException {
    int failuresInRow = 0;
    int transientInRow = 0; // failed starts that were not the model's fault
    Instant failingSince = null;
    String lastReason = "";
    List<String> lastLogs = List.of();
    boolean pause = false;
    for (int attempt = 0; !ended(); attempt++) {
      if (pause) {
        if (failuresInRow >= MAX_FAILED_RESTARTS) {
          failAndRelease("crash loop: " + failuresInRow + " failed restarts in a row; last: "
              + lastReason, lastLogs);
          return;
        }
        Duration wait = backoff(failuresInRow);
        if (transientInRow > 0) {
          Duration failing = Duration.between(failingSince, Instant.now());
          Optional<Duration> next = retry.next(transientInRow, failing);
          if (next.isEmpty()) {
            failAndRelease("gave up after " + transientInRow + " failed starts in "
                + failing.toSeconds() + " s (retry window " + retry.window().toSeconds()
                + " s, --docker-retry-ms); last: " + lastReason, lastLogs);
            return;
          }
          wait = next.get();
        }
        Thread.sleep(wait.toMillis());
        if (ended()) {
          return;
        }
        deployment.countRestart();
      }
      pause = true;
      Replica.Runtime runtime;
      RunningSidecar previous = adopted;
      adopted = null;
      try {
        runtime = previous != null ? starter.adopt(deployment, replica, previous)
            : starter.start(deployment, replica, attempt);
      } catch (RuntimeStarter.StartFailure e) {
        if (ended()) {
          return;
        }
        lastReason = e.getMessage();
        lastLogs = e.logLines();
        if (previous != null) {
          LOG.warning("model '" + deployment.name() + "' replica " + replica.index()
              + ": not adopting the runtime left by the previous run (" + lastReason
              + "); starting a new one");
          pause = false;
          continue;
        }
        if (e.isTransient()) {
          failingSince = failingSince == null ? Instant.now() : failingSince;
          transientInRow++;
          LOG.warning("model '" + deployment.name() + "' replica " + replica.index()
              + ": start failed (" + lastReason + "); retrying");
          continue;
        }
        if (!deployment.wasReady()) {
          failAndRelease(e.getMessage(), e.logLines()); // a bad model does not loop
          return;
        }
        failuresInRow++;
        continue;
      }
      transientInRow = 0;
      failingSince = null;
      deployment.replicaReady(replica);
      Instant upSince = Instant.now();
      Down down = watch(runtime);
      if (down == null) {
        return; // undeployed, replaced or failed: release() stops the runtime
      }
      LOG.warning("model '" + deployment.name() + "' replica " + replica.index() + ": "
          + down.reason() + "; restarting");
      deployment.replicaDown(replica, down.reason(), down.logLines());
      runtime.sidecar().stop();
      // A restarted runtime that dies soon after passing validation counts as a failed
      // restart; the first death of a runtime that served (or served long enough) does not.
      boolean stable = Duration.between(upSince, Instant.now()).compareTo(STABLE_AFTER) >= 0;
      failuresInRow = attempt == 0 || stable ? 0 : failuresInRow + 1;
      lastReason = down.reason();
      lastLogs = down.logLines();
    }
  }

  /** Returns why the runtime went down, or null when the deployment ended meanwhile. */
  private Down watch(Replica.Runtime runtime) throws InterruptedException {
    // Fail in-flight calls the moment the runtime ends, not at the next check, with its exit
    // as their reason (not the reason of an earlier restart).
    runtime.sidecar().onExit().thenAccept(code -> {
      runtime.noteDown(runtime.sidecar().describeExit(code));
      runtime.client().closeNow();
    });
    Instant failingSince = null;
    int missed = 0;
    while (!ended()) {
      try {
        Duration period = replica.inFlight() > 0 ? CHECK_PERIOD : IDLE_CHECK_PERIOD;
        int code = runtime.sidecar().onExit().get(period.toMillis(), TimeUnit.MILLISECONDS);
        if (ended()) {
          return null;
        }
        return new Down(runtime.sidecar().describeExit(code),
            runtime.sidecar().logTail(RuntimeStarter.LOG_LINES));
      } catch (TimeoutException e) {
        // Still running: check its health below.
      } catch (ExecutionException e) {
        return new Down("lost track of the runtime: " + e.getCause(), List.of());
      }
      if (ended()) {
        return null;
      }
      Optional<String> stuck = replica.stuck();
      if (stuck.isPresent()) { // health still answers: the runtime's other threads are free
        return new Down(stuck.get() + "; killing it",
            runtime.sidecar().logTail(RuntimeStarter.LOG_LINES));
      }
      if (healthy(runtime)) {
        failingSince = null;
        missed = 0;
        continue;
      }
      missed++;
      failingSince = failingSince == null ? Instant.now() : failingSince;
      Duration failing = Duration.between(failingSince, Instant.now());
      if (missed >= MIN_MISSED && failing.compareTo(UNHEALTHY_AFTER) >= 0) {
        return new Down("the runtime stopped answering health checks for "
            + failing.toMillis() + " ms", runtime.sidecar().logTail(RuntimeStarter.LOG_LINES));
      }
    }
    return null;
  }

  private static boolean healthy(Replica.Runtime runtime) {
    try {
      return runtime.client().health(HEALTH_DEADLINE) == RuntimeHealth.SERVING;
    } catch (GatewayException e) {
      return false;
    }
  }

  /** 0.5 s, 1 s, 2 s, ... capped at 10 s: the retry policy's steps, one row further on. */
  static Duration backoff(int failuresInRow) {
    return RetryPolicy.doubled(RetryPolicy.FIRST_BACKOFF, RetryPolicy.MAX_BACKOFF, failuresInRow);
  }

  private boolean ended() {
    return deployment.state().isTerminal() || deployment.isReleased();
  }

  private void failAndRelease(String reason, List<String> logs) {
    if (deployment.fail(reason, logs)) {
      deployment.release(false);
    }
  }
}
