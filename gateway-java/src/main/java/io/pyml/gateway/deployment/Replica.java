package io.pyml.gateway.deployment;

import io.pyml.gateway.core.Payload;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.SidecarClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One of a deployment's runtime slots. Its runtime comes and goes (restarts); the slot stays.
 * Routing reads {@link #isReady} and {@link #inFlight}; the supervisor attaches and detaches.
 */
final class Replica {
  /** A started runtime and the channel to it. */
  record Runtime(RunningSidecar sidecar, SidecarClient client) {}

  private final int index;
  private final AtomicInteger inFlight = new AtomicInteger();
  // Guarded by this.
  private Runtime runtime;
  private boolean ready;

  Replica(int index) {
    this.index = index;
  }

  int index() {
    return index;
  }

  int inFlight() {
    return inFlight.get();
  }

  synchronized boolean isReady() {
    return ready;
  }

  synchronized void attach(Runtime started) {
    this.runtime = started;
    this.ready = false;
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

  /** Sends to this replica's runtime, counting the call while it is in flight. */
  CompletableFuture<Payload> predict(Payload payload, Duration timeout) {
    SidecarClient client;
    synchronized (this) {
      client = runtime == null ? null : runtime.client();
    }
    if (client == null) {
      return null;
    }
    inFlight.incrementAndGet();
    CompletableFuture<Payload> answer;
    try {
      answer = client.predict(payload, timeout);
    } catch (RuntimeException e) {
      inFlight.decrementAndGet();
      throw e;
    }
    return answer.whenComplete((value, error) -> inFlight.decrementAndGet());
  }
}
