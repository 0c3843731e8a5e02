package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.BatchOutcome;
import io.pyml.gateway.sidecar.SidecarClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One of a deployment's runtime slots. Its runtime comes and goes (restarts); the slot stays.
 * It keeps the room its runtime has (calls and payload bytes in flight, reserved by admission
 * before a call is sent) and whether its runtime is stuck in model code: a call that outlived
 * its deadline plus the grace while its runtime worker answered nothing since it was sent.
 */
final class Replica {
  /** How long a failed call waits for its runtime's exit to say why (code, OOM). */
  private static final Duration EXIT_GRACE = Duration.ofMillis(1000);

  /** A started runtime, the channel to it, and why it went down once it did. */
  record Runtime(RunningSidecar sidecar, SidecarClient client, AtomicReference<String> down) {
    Runtime(RunningSidecar sidecar, SidecarClient client) {
      this(sidecar, client, new AtomicReference<>());
    }

    /** Records why the runtime is going away, before its channel is closed; first one wins. */
    void noteDown(String why) {
      down.compareAndSet(null, why);
    }
  }

  private final String model;
  private final int index;
  private final long bytesBudget;
  // Guarded by this.
  private int callsPerWorker;
  private long maxBytes;
  private Runtime runtime;
  private int maxCalls;
  private boolean ready;
  private int calls;
  private long bytes;
  private String stuck;

  /**
   * @param callsPerWorker calls in flight per runtime worker: a runtime with N workers is
   *     given N times as many
   * @param bytesBudget payload bytes in flight at a runtime of one worker; a runtime with N
   *     workers is given 1/N of it, as each worker is a process of its own that holds (and
   *     keeps, at its peak) its calls' copies beside its own copy of the model, all under the
   *     container's one memory limit. Measured with the breast-cancer example in 1 GiB: two
   *     workers with the one-worker budget (five 24 MB calls in flight) were OOM-killed by 32
   *     such calls at once (tests/security/test_load.py); with half of it they are not.
   */
  Replica(String model, int index, int callsPerWorker, long bytesBudget) {
    this.model = model;
    this.index = index;
    this.callsPerWorker = callsPerWorker;
    this.maxCalls = callsPerWorker;
    this.bytesBudget = bytesBudget;
    this.maxBytes = bytesBudget;
  }

  int index() {
    return index;
  }

  synchronized int inFlight() {
    return calls;
  }

  /** Calls it runs at once (batches, for a batching deployment); 0 while not ready. */
  synchronized int slots() {
    return isReady() ? maxCalls : 0;
  }

  synchronized long bytesInFlight() {
    return bytes;
  }

  /**
   * Ready and not known to be down: a runtime's exit is noted the moment it shows, a little
   * before its supervisor detaches it, and no call may be placed on it in between.
   */
  synchronized boolean isReady() {
    return ready && runtime.down().get() == null;
  }

  synchronized void attach(Runtime started) {
    this.runtime = started;
    this.maxCalls = callsPerWorker * started.client().workers();
    this.maxBytes = bytesBudget / started.client().workers();
    this.ready = false;
    this.stuck = null;
  }

  synchronized void markReady() {
    ready = runtime != null;
  }

  /** Takes the runtime out of routing and hands it to the caller to close and stop. */
  synchronized Optional<Runtime> detach() {
    Runtime old = runtime;
    runtime = null;
    ready = false;
    return Optional.ofNullable(old);
  }

  /**
   * Reserves room for one call of {@code size} payload bytes; false when this replica is not
   * ready or full. A call alone is always admitted, whatever its size.
   */
  synchronized boolean tryReserve(long size) {
    if (!isReady() || calls >= maxCalls || (calls > 0 && bytes + size > maxBytes)) {
      return false;
    }
    calls++;
    bytes += size;
    return true;
  }

  /**
   * Adds a call of {@code size} bytes to the batch this replica reserved room for (one call in
   * flight, as a batch is one call to the runtime); false when it would go over the budget.
   */
  synchronized boolean tryGrow(long size) {
    if (bytes + size > maxBytes) {
      return false;
    }
    bytes += size;
    return true;
  }

  /**
   * Batching deployments send one batch at a time to each runtime worker: calls then count
   * batches, and a runtime with N workers takes N at once.
   */
  synchronized void limitCallsPerWorker(int limit) {
    callsPerWorker = limit;
    maxCalls = limit * (runtime != null ? runtime.client().workers() : 1);
  }

  synchronized void unreserve(long size) {
    calls--;
    bytes -= size;
  }

  /** Why the current runtime is stuck in model code; empty while it makes progress. */
  synchronized Optional<String> stuck() {
    return Optional.ofNullable(stuck);
  }

  /**
   * Sends to this replica's runtime; null when it has none now. The runtime's call gets the
   * client's timeout plus {@code grace}: model code cannot be interrupted, so a call the client
   * gave up on still occupies the runtime, and only a call that outlives the grace with no
   * other answer meanwhile shows the runtime is stuck. Failures carry the runtime's current
   * reason (its exit, why it was stopped), never an earlier one.
   */
  CompletableFuture<Payload> call(Payload payload, Duration timeout, Duration grace) {
    return send(client -> client.predict(payload, timeout.plus(grace)), timeout, grace);
  }

  /** The same for several calls sent as one PredictBatch: one outcome per payload. */
  CompletableFuture<List<BatchOutcome>> callBatch(List<Payload> payloads, Duration timeout,
      Duration grace) {
    return send(client -> client.predictBatch(payloads, timeout.plus(grace)), timeout, grace);
  }

  private <T> CompletableFuture<T> send(Function<SidecarClient, CompletableFuture<T>> rpc,
      Duration timeout, Duration grace) {
    Runtime used;
    synchronized (this) {
      used = runtime;
    }
    if (used == null) {
      return null;
    }
    CompletableFuture<T> answer = rpc.apply(used.client());
    answer.whenComplete((value, error) -> {
      if (error != null && isDeadline(unwrap(error))) {
        overran(used, timeout, grace);
      }
    });
    return answer.exceptionallyCompose(error -> withCurrentReason(used, unwrap(error)));
  }

  /** A call overran: stuck when its worker ran the model for no call since (the client knows). */
  private synchronized void overran(Runtime used, Duration timeout, Duration grace) {
    if (runtime != used || stuck != null) {
      return; // another runtime now, or already known
    }
    used.client().stuckWorker().ifPresent(worker -> stuck = "a call was still in the model's "
        + "predict " + (timeout.plus(grace)).toMillis() + " ms after it was sent (its deadline "
        + timeout.toMillis() + " ms, plus a grace of " + grace.toMillis() + " ms) and runtime "
        + "worker " + worker + " answered nothing meanwhile: it is stuck in model code");
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
  }

  private static boolean isDeadline(Throwable cause) {
    return cause instanceof GatewayException e && e.kind() == ErrorKind.DEADLINE_EXCEEDED;
  }

  /**
   * An unavailable runtime is described by what happened to it: the reason it was stopped, or
   * its exit (code, OOM) once that shows, which lags the broken socket by a moment.
   */
  private <T> CompletableFuture<T> withCurrentReason(Runtime used, Throwable cause) {
    if (!(cause instanceof GatewayException e) || e.kind() != ErrorKind.UNAVAILABLE) {
      return CompletableFuture.<T>failedFuture(cause);
    }
    String known = used.down().get();
    if (known != null) {
      return CompletableFuture.<T>failedFuture(unavailable(known, e));
    }
    return used.sidecar().onExit().copy() // a copy: the timeout must not complete the original
        .completeOnTimeout(null, EXIT_GRACE.toMillis(), TimeUnit.MILLISECONDS)
        .thenCompose(code -> {
          if (code == null && used.down().get() == null) {
            return CompletableFuture.<T>failedFuture(e);
          }
          if (code != null) {
            used.noteDown(used.sidecar().describeExit(code));
          }
          return CompletableFuture.<T>failedFuture(unavailable(used.down().get(), e));
        });
  }

  private GatewayException unavailable(String why, GatewayException e) {
    return new GatewayException(ErrorKind.UNAVAILABLE, "model '" + model
        + "' runtime is unavailable: " + why, e);
  }
}
