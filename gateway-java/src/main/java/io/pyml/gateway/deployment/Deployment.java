package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Timeouts;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One deployment of a model version: its replicas, the routing of calls among them, and its
 * lifecycle (state, reason: {@link DeploymentLifecycle}). Thread-safe: supervisors (one per
 * replica), undeploy and predictions all touch it at once. READY while at least one replica is
 * ready; calls go to the least-loaded ready replica.
 */
public final class Deployment {
  /** A drained channel's close: only a last health check of the supervisor may be on it. */
  private static final Duration GRACEFUL_CLOSE = Duration.ofSeconds(5);

  private final long id;
  private final DeploySpec spec;
  private final List<Replica> replicas;
  private final LeastLoaded router = new LeastLoaded();
  private final DeploymentLifecycle lifecycle;
  private final CallsInFlight calls = new CallsInFlight();
  private final AdmissionQueue queue;
  private final Duration hungCallGrace;

  // Guarded by this.
  private PayloadKind kind = PayloadKind.UNSPECIFIED;
  private long restarts;
  private RuntimeMetadata metadata;
  private boolean released;

  Deployment(long id, DeploySpec spec) {
    this(id, spec, AdmissionLimits.DEFAULTS);
  }

  Deployment(long id, DeploySpec spec, AdmissionLimits admission) {
    this.id = id;
    this.spec = spec;
    long bytesPerReplica = admission.bytesPerReplica(spec.runtime().limits());
    List<Replica> slots = new ArrayList<>();
    for (int i = 0; i < spec.replicas(); i++) {
      slots.add(new Replica(spec.name(), i, admission.callsPerWorker(), bytesPerReplica));
    }
    this.replicas = List.copyOf(slots);
    this.queue = new AdmissionQueue(spec.name(), admission.queueCalls(), admission.queueBytes(),
        bytes -> router.reserve(replicas, bytes));
    this.hungCallGrace = admission.hungCallGrace();
    this.lifecycle = new DeploymentLifecycle(this, spec.name(), spec.version(), id, this::view);
  }

  /** Unique within this gateway; names the runtimes' socket folders. */
  public long id() {
    return id;
  }

  public String name() {
    return spec.name();
  }

  public long version() {
    return spec.version();
  }

  public DeploySpec spec() {
    return spec;
  }

  List<Replica> replicas() {
    return replicas;
  }

  public DeploymentState state() {
    return lifecycle.state();
  }

  public String reason() {
    return lifecycle.reason();
  }

  public synchronized PayloadKind kind() {
    return kind;
  }

  /** True once the deployment has been READY: failures after that restart, before it fail. */
  public boolean wasReady() {
    return lifecycle.wasReady();
  }

  public synchronized DeploymentView view() {
    int ready = (int) replicas.stream().filter(Replica::isReady).count();
    return new DeploymentView(spec.name(), spec.version(), lifecycle.state(), lifecycle.reason(),
        lifecycle.lastLogLines(), kind, spec.homePath(), lifecycle.stateChangedAt(),
        replicas.size(), ready, restarts, spec.image(), lifecycle.readySince(), admission());
  }

  /** What admission holds now: for metrics. */
  DeploymentView.AdmissionView admission() {
    long bytes = replicas.stream().mapToLong(Replica::bytesInFlight).sum();
    return new DeploymentView.AdmissionView(queue.length(), queue.rejections(), bytes);
  }

  /**
   * Completes once READY, or once FAILED or STOPPED and the runtimes are released; with the
   * state reached. Every move to FAILED or STOPPED is followed by {@link #release}.
   */
  public CompletableFuture<DeploymentView> settled() {
    return lifecycle.settled();
  }

  /** A lifecycle step; throws IllegalStateException when the move is not allowed. */
  void advance(DeploymentState next) {
    lifecycle.advance(next);
  }

  /** See {@link DeploymentLifecycle#reach}. */
  void reach(DeploymentState target) {
    lifecycle.reach(target);
  }

  /**
   * Marks the deployment FAILED; false (and no change) when it already failed or stopped.
   * A true answer obliges the caller to {@link #release} it.
   */
  boolean fail(String why, List<String> logLines) {
    return lifecycle.end(DeploymentState.FAILED, why, logLines);
  }

  /** Marks the deployment STOPPED (undeployed or replaced); false when already STOPPED. */
  boolean markStopped() {
    return lifecycle.end(DeploymentState.STOPPED, null, null);
  }

  synchronized void setKind(PayloadKind payloadKind) {
    this.kind = payloadKind;
  }

  /** What the runtime said about its model (schemas for OIP); empty before VALIDATING. */
  public synchronized Optional<RuntimeMetadata> metadata() {
    return Optional.ofNullable(metadata);
  }

  synchronized void setMetadata(RuntimeMetadata runtimeMetadata) {
    this.metadata = runtimeMetadata;
  }

  /** Hands a started runtime to its replica; false when the deployment ended meanwhile. */
  synchronized boolean attach(Replica replica, Replica.Runtime runtime) {
    if (released || lifecycle.state().isTerminal()) {
      return false;
    }
    replica.attach(runtime);
    return true;
  }

  /** The replica passed validation: it takes calls, and the deployment is (again) READY. */
  void replicaReady(Replica replica) {
    List<DeploymentLifecycle.Moved> moves;
    synchronized (this) {
      if (lifecycle.state().isTerminal()) {
        return;
      }
      replica.markReady();
      moves = lifecycle.replicaReady();
    }
    lifecycle.announce(moves);
    queue.roomFreed();
  }

  /**
   * The replica's runtime died or stopped answering: out of routing now, its channel closed
   * at once (in-flight calls fail UNAVAILABLE), and the deployment leaves READY if no replica
   * is left. The caller stops the returned runtime.
   */
  Optional<Replica.Runtime> replicaDown(Replica replica, String why, List<String> logLines) {
    Optional<Replica.Runtime> old;
    List<DeploymentLifecycle.Moved> moves;
    synchronized (this) {
      old = replica.detach();
      boolean anyReady = replicas.stream().anyMatch(Replica::isReady);
      moves = lifecycle.replicaDown("replica " + replica.index() + ": " + why + "; restarting",
          logLines, anyReady);
    }
    lifecycle.announce(moves);
    old.ifPresent(runtime -> {
      runtime.noteDown(why); // before the close: the calls it fails say why
      runtime.client().closeNow();
    });
    return old;
  }

  synchronized void countRestart() {
    restarts++;
  }

  /**
   * The one path to a runtime's Predict for client requests. Empty when this deployment takes
   * no more calls: it was replaced or undeployed after the caller routed to it, and the caller
   * routes again (its successor is live by then). A call taken here is drained, never cut, when
   * the deployment is replaced or undeployed: {@link #release} waits for it.
   */
  public Optional<CompletableFuture<Payload>> predict(Payload payload, Duration timeout) {
    synchronized (this) { // one step with markStopped(): a call is either taken or refused
      DeploymentState state = lifecycle.state();
      if (state == DeploymentState.STOPPED) {
        return Optional.empty();
      }
      if (state != DeploymentState.READY) {
        String reason = lifecycle.reason();
        return Optional.of(CompletableFuture.failedFuture(new GatewayException(
            ErrorKind.UNAVAILABLE, "model '" + name() + "' is not ready: " + state
            + (reason.isEmpty() ? "" : " (" + reason + ")"))));
      }
      if (payload.kind() != kind) {
        return Optional.of(CompletableFuture.failedFuture(new GatewayException(
            ErrorKind.INVALID_INPUT, "model '" + name() + "' takes a " + kind
            + " payload, got " + payload.kind())));
      }
      calls.enter(timeout);
    }
    CompletableFuture<Payload> answer;
    try {
      answer = admitted(payload, timeout);
    } catch (RuntimeException e) {
      calls.exit();
      throw e;
    }
    return Optional.of(answer.whenComplete((value, error) -> calls.exit()));
  }

  /** Waits in the admission queue for room at a replica, then sends there. */
  private CompletableFuture<Payload> admitted(Payload payload, Duration timeout) {
    long size = payload.sizeBytes();
    long deadline = System.nanoTime() + timeout.toNanos();
    return queue.admit(size, timeout)
        .thenCompose(replica -> sendPlaced(replica, payload, size, deadline, timeout));
  }

  /** Sends a call to the replica that reserved room for it; the room is freed when it ends. */
  private CompletableFuture<Payload> sendPlaced(Replica replica, Payload payload, long size,
      long deadline, Duration timeout) {
    Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
    CompletableFuture<Payload> answer;
    try {
      answer = replica.call(payload, left, hungCallGrace);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    if (answer == null) { // it went down after it was placed
      answer = CompletableFuture.failedFuture(new GatewayException(ErrorKind.UNAVAILABLE,
          "model '" + name() + "' has no ready runtime (" + state() + ")"));
    }
    // Held until the runtime's call ends, which may be after the client's deadline: the
    // runtime is busy with it until then.
    answer.whenComplete((value, error) -> {
      replica.unreserve(size);
      queue.roomFreed();
    });
    return withinDeadline(answer, left, timeout);
  }

  /** The runtime's answer, or DEADLINE_EXCEEDED once the client's time is up. */
  private CompletableFuture<Payload> withinDeadline(CompletableFuture<Payload> answer,
      Duration left, Duration timeout) {
    CompletableFuture<Payload> toClient = new CompletableFuture<>();
    answer.whenComplete((value, error) -> {
      if (error == null) {
        toClient.complete(value);
      } else {
        toClient.completeExceptionally(error);
      }
    });
    Timeouts.onTimeout(toClient, left, () ->
        toClient.completeExceptionally(new GatewayException(ErrorKind.DEADLINE_EXCEEDED,
            "model '" + name() + "' did not answer within " + timeout.toMillis() + " ms")));
    return toClient;
  }

  /** Sends to one replica, outside admission (validation uses this); null when it has no runtime. */
  CompletableFuture<Payload> predictOn(Replica replica, Payload payload, Duration timeout) {
    return replica.call(payload, timeout, Duration.ZERO);
  }

  /**
   * Lets go of every runtime and stops them. Blocking; once. {@code graceful} (replaced,
   * undeployed; STOPPED already, so no call is taken any more): the calls it took finish first,
   * each within its deadline. Otherwise (failed, gateway stopping) they fail at once.
   */
  void release(boolean graceful) {
    if (graceful) {
      try {
        calls.awaitNone();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Replica.Runtime> toStop = new ArrayList<>();
    synchronized (this) {
      if (released) {
        return;
      }
      released = true;
      replicas.forEach(replica -> replica.detach().ifPresent(toStop::add));
    }
    queue.failAll(new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name()
        + "' stopped serving while the call waited: " + state()));
    for (Replica.Runtime runtime : toStop) {
      if (graceful) {
        runtime.client().close();
      } else {
        runtime.client().closeNow();
      }
    }
    for (Replica.Runtime runtime : toStop) {
      if (graceful) {
        awaitQuietly(runtime);
        runtime.client().closeNow();
      }
      runtime.sidecar().stop();
    }
    // Only now: whoever waits for a FAILED or STOPPED deployment finds its runtimes gone.
    lifecycle.settle(view());
  }

  synchronized boolean isReleased() {
    return released;
  }

  private static void awaitQuietly(Replica.Runtime runtime) {
    try {
      runtime.client().awaitClosed(GRACEFUL_CLOSE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
