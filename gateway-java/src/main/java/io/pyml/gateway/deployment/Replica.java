package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.sidecar.BatchOutcome;
import io.pyml.gateway.sidecar.RunningSidecar;
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
 * its deadline plus the grace while the runtime answered nothing since that call was sent.
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
  private final long maxBytes;
  // Guarded by this.
  private int maxCalls;
  private Runtime runtime;
  private boolean ready;
  private int calls;
  private long bytes;
  private long lastProgressNanos = System.nanoTime();
  private String stuck;

  Replica(String model, int index, int maxCalls, long maxBytes) {
    this.model = model;
    this.index = index;
    this.maxCalls = maxCalls;
    this.maxBytes = maxBytes;
  }

  int index() {
    return index;
  }

  synchronized int inFlight() {
    return calls;
  }

  synchronized long bytesInFlight() {
    return bytes;
  }

  synchronized boolean isReady() {
    return ready;
  }

  synchronized void attach(Runtime started) {
    this.runtime = started;
    this.ready = false;
    this.stuck = null;
    this.lastProgressNanos = System.nanoTime();
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
    if (!ready || calls >= maxCalls || (calls > 0 && bytes + size > maxBytes)) {
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

  /** Batching deployments send one batch at a time to a runtime: calls then count batches. */
  synchronized void limitCalls(int calls) {
    maxCalls = calls;
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
    long sent = System.nanoTime();
    CompletableFuture<T> answer = rpc.apply(used.client());
    answer.whenComplete((value, error) -> {
      Throwable cause = unwrap(error);
      if (error == null || isModelAnswer(cause)) {
        progressed();
      } else if (isDeadline(cause)) {
        overran(used, sent, timeout, grace);
      }
    });
    return answer.exceptionallyCompose(error -> withCurrentReason(used, unwrap(error)));
  }

  private synchronized void progressed() {
    lastProgressNanos = System.nanoTime();
  }

  private synchronized void overran(Runtime used, long sent, Duration timeout, Duration grace) {
    if (runtime != used || stuck != null || lastProgressNanos - sent > 0) {
      return; // another runtime now, already known, or the runtime answered others meanwhile
    }
    stuck = "a call was still in the model's predict " + (timeout.plus(grace)).toMillis()
        + " ms after it was sent (its deadline " + timeout.toMillis() + " ms, plus a grace of "
        + grace.toMillis() + " ms) and the runtime answered nothing meanwhile: it is stuck in "
        + "model code";
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
  }

  private static boolean isDeadline(Throwable cause) {
    return cause instanceof GatewayException e && e.kind() == ErrorKind.DEADLINE_EXCEEDED;
  }

  /** The runtime ran the model on the call (an answer, or the model's own error). */
  private static boolean isModelAnswer(Throwable cause) {
    return cause instanceof GatewayException e && e.kind() == ErrorKind.MODEL_ERROR;
  }

  /**
   * An unavailable runtime is described by what happened to it: the reason it was stopped, or
   * its exit (code, OOM) once that shows, which lags the broken socket by a moment.
   */
  private <T> CompletableFuture<T> withCurrentReason(Runtime used, Throwable cause) {
    if (!(cause instanceof GatewayException e) || e.kind() != ErrorKind.UNAVAILABLE) {
      return CompletableFuture.failedFuture(cause);
    }
    String known = used.down().get();
    if (known != null) {
      return CompletableFuture.failedFuture(unavailable(known, e));
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
