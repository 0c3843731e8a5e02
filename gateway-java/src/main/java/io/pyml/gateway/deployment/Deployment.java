package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Timeouts;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.BatchOutcome;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

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
  private final AdmissionQueue<Pending> queue;
  private final Duration hungCallGrace;
  private final long bytesPerReplica;
  private final BatchStats batchStats = new BatchStats();

  // Guarded by this.
  private PayloadKind kind = PayloadKind.UNSPECIFIED;
  private long restarts;
  private RuntimeMetadata metadata;
  private boolean released;

  Deployment(long id, DeploySpec spec) {
    this(id, spec, AdmissionLimits.DEFAULTS, ReadinessListener.NONE);
  }

  /** @param moves told after each state move */
  Deployment(long id, DeploySpec spec, AdmissionLimits admission, ReadinessListener moves) {
    this.id = id;
    this.spec = spec;
    this.bytesPerReplica = admission.bytesPerReplica(spec.runtime().limits());
    List<Replica> slots = new ArrayList<>();
    for (int i = 0; i < spec.replicas(); i++) {
      slots.add(new Replica(spec.name(), i, admission.callsPerWorker(), bytesPerReplica));
    }
    this.replicas = List.copyOf(slots);
    this.queue = new AdmissionQueue<>(spec.name(), admission.queueCalls(),
        admission.queueBytes(), bytes -> router.reserve(replicas, bytes), this::batchShare,
        this::send);
    this.hungCallGrace = admission.hungCallGrace();
    this.lifecycle = new DeploymentLifecycle(this, spec.name(), spec.version(), id, this::view,
        moves);
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

  /** The error of a call that needs this deployment READY while it is not. */
  public GatewayException notReady() {
    String reason = lifecycle.reason();
    return new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name() + "' is not ready: "
        + lifecycle.state() + (reason.isEmpty() ? "" : " (" + reason + ")"));
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
    return new DeploymentView.AdmissionView(queue.length(), queue.rejections(), bytes,
        batchStats.batchSizes(), batchStats.queueDelays());
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
    RuntimeMetadata.Batching batching = runtimeMetadata.batching();
    if (batching.enabled()) {
      // One batch at a time per runtime worker: calls that arrive meanwhile gather into the next.
      replicas.forEach(replica -> replica.limitCallsPerWorker(BatchStats.BATCHES_PER_WORKER));
      queue.gather(BatchStats.gathering(batching, bytesPerReplica));
    }
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
        return Optional.of(CompletableFuture.failedFuture(notReady()));
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

  /** A client call: its payload, when its time is up, and where its answer goes. */
  private record Pending(Payload payload, long deadlineNanos, Duration timeout,
      CompletableFuture<Payload> answer) {
    Duration left() {
      return Duration.ofNanos(Math.max(1, deadlineNanos - System.nanoTime()));
    }
  }

  /** Waits in the admission queue for room at a replica; the queue then sends it. */
  private CompletableFuture<Payload> admitted(Payload payload, Duration timeout) {
    Pending call = new Pending(payload, System.nanoTime() + timeout.toNanos(), timeout,
        new CompletableFuture<>());
    queue.admit(call, payload.sizeBytes(), timeout).whenComplete((placed, error) -> {
      if (error != null) {
        call.answer().completeExceptionally(error);
      }
    });
    return call.answer();
  }

  /**
   * How many calls a batch may wait for: the most calls in flight at once lately, shared among
   * the batches the ready runtimes run at once. Under a steady load of 8 calls and two runtime
   * workers, a worker that finished its batch waits for 4 rather than taking the first call
   * that comes back alone (the other 7 then gather behind the other worker, and the load
   * splits into batches of 1 and 7, twice the model calls of 4 and 4). See AdmissionQueue.
   */
  private int batchShare() {
    int slots = replicas.stream().mapToInt(Replica::slots).sum();
    return Math.max(1, calls.recentPeak() / Math.max(1, slots));
  }

  /** The queue placed these calls at the replica, which reserved room for them. */
  private void send(Replica replica, List<AdmissionQueue.Admitted<Pending>> calls) {
    batchStats.record(calls);
    if (calls.size() == 1) {
      sendOne(replica, calls.get(0));
    } else {
      sendBatch(replica, calls);
    }
  }

  /** Sends one call as a Predict; the room is freed when it ends. */
  private void sendOne(Replica replica, AdmissionQueue.Admitted<Pending> placed) {
    Pending call = placed.call();
    Duration left = call.left();
    CompletableFuture<Payload> answer;
    try {
      answer = replica.call(call.payload(), left, hungCallGrace);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    if (answer == null) { // it went down after it was placed
      answer = CompletableFuture.failedFuture(noRuntime());
    }
    // Held until the runtime's call ends, which may be after the client's deadline: the
    // runtime is busy with it until then.
    answer.whenComplete((value, error) -> freed(replica, placed.bytes()));
    deliver(call, answer, left);
  }

  /**
   * Sends several calls as one PredictBatch; each gets its own outcome, and its own deadline
   * (the batch runs until the latest of them).
   */
  private void sendBatch(Replica replica, List<AdmissionQueue.Admitted<Pending>> placed) {
    List<Pending> calls = placed.stream().map(AdmissionQueue.Admitted::call).toList();
    long bytes = placed.stream().mapToLong(AdmissionQueue.Admitted::bytes).sum();
    Duration longest = calls.stream().map(Pending::left).max(Duration::compareTo).orElseThrow();
    CompletableFuture<List<BatchOutcome>> outcomes;
    try {
      outcomes = replica.callBatch(calls.stream().map(Pending::payload).toList(), longest,
          hungCallGrace);
    } catch (RuntimeException e) {
      outcomes = CompletableFuture.failedFuture(e);
    }
    if (outcomes == null) {
      outcomes = CompletableFuture.failedFuture(noRuntime());
    }
    outcomes.whenComplete((value, error) -> freed(replica, bytes));
    for (int i = 0; i < calls.size(); i++) {
      int index = i;
      deliver(calls.get(i), outcomes.thenCompose(all -> {
        BatchOutcome outcome = all.get(index);
        return outcome.error() == null ? CompletableFuture.completedFuture(outcome.answer())
            : CompletableFuture.failedFuture(outcome.error());
      }), calls.get(i).left());
    }
  }

  private void freed(Replica replica, long bytes) {
    replica.unreserve(bytes);
    queue.roomFreed();
  }

  private GatewayException noRuntime() {
    return new GatewayException(ErrorKind.UNAVAILABLE,
        "model '" + name() + "' has no ready runtime (" + state() + ")");
  }

  /** The runtime's answer to the client, or DEADLINE_EXCEEDED once the client's time is up. */
  private void deliver(Pending call, CompletableFuture<Payload> answer, Duration left) {
    CompletableFuture<Payload> toClient = call.answer();
    answer.whenComplete((value, error) -> {
      if (error == null) {
        toClient.complete(value);
      } else {
        toClient.completeExceptionally(error instanceof CompletionException
            && error.getCause() != null ? error.getCause() : error);
      }
    });
    Timeouts.onTimeout(toClient, left, () ->
        toClient.completeExceptionally(new GatewayException(ErrorKind.DEADLINE_EXCEEDED,
            "model '" + name() + "' did not answer within " + call.timeout().toMillis()
            + " ms")));
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
    release(graceful, false);
  }

  /**
   * {@link #release(boolean)}, but with {@code leave} the runtimes a next gateway can adopt
   * ({@link io.pyml.gateway.sidecar.RunningSidecar#adoptable}) are left running: only their
   * channels are closed.
   */
  void release(boolean graceful, boolean leave) {
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
      if (!(leave && runtime.sidecar().adoptable())) {
        runtime.sidecar().stop();
      }
    }
    // Only now: whoever waits for a FAILED or STOPPED deployment finds its runtimes gone.
    lifecycle.settle(view());
  }

  /**
   * Waits until the calls this deployment took are done, at most {@code most}; true when none
   * is left in flight.
   */
  boolean awaitCalls(Duration most) throws InterruptedException {
    return calls.awaitNone(most);
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
