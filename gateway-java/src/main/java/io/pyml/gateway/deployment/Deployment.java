package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * One deployment of a model version: its state, why it failed or left READY, and its replicas.
 * Thread-safe: supervisors (one per replica), undeploy and predictions all touch it at once.
 * READY while at least one replica is ready; calls go to the least-loaded ready replica.
 */
public final class Deployment {
  private static final Logger LOG = Logger.getLogger(Deployment.class.getName());
  private static final Duration GRACEFUL_CLOSE = Duration.ofSeconds(5);

  private final long id;
  private final DeploySpec spec;
  private final List<Replica> replicas;
  private final CompletableFuture<DeploymentView> settled = new CompletableFuture<>();
  private final LeastLoaded router = new LeastLoaded();

  // Guarded by this.
  private DeploymentState state = DeploymentState.PENDING;
  private String reason = "";
  private List<String> lastLogLines = List.of();
  private PayloadKind kind = PayloadKind.UNSPECIFIED;
  private Instant stateChangedAt = Instant.now();
  private Instant readySince;
  private long restarts;
  private RuntimeMetadata metadata;
  private boolean released;

  Deployment(long id, DeploySpec spec) {
    this.id = id;
    this.spec = spec;
    List<Replica> slots = new ArrayList<>();
    for (int i = 0; i < spec.replicas(); i++) {
      slots.add(new Replica(i));
    }
    this.replicas = List.copyOf(slots);
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

  public synchronized DeploymentState state() {
    return state;
  }

  public synchronized String reason() {
    return reason;
  }

  public synchronized PayloadKind kind() {
    return kind;
  }

  /** True once the deployment has been READY: failures after that restart, before it fail. */
  public synchronized boolean wasReady() {
    return readySince != null;
  }

  public synchronized DeploymentView view() {
    int ready = (int) replicas.stream().filter(Replica::isReady).count();
    return new DeploymentView(spec.name(), spec.version(), state, reason, lastLogLines, kind,
        spec.homePath(), stateChangedAt, replicas.size(), ready, restarts, spec.image(),
        Optional.ofNullable(readySince));
  }

  /**
   * Completes once READY, or once FAILED or STOPPED and the runtimes are released; with the
   * state reached. Every move to FAILED or STOPPED is followed by {@link #release}.
   */
  public CompletableFuture<DeploymentView> settled() {
    return settled;
  }

  /** A lifecycle step; throws IllegalStateException when the move is not allowed. */
  void advance(DeploymentState next) {
    Moved moved;
    synchronized (this) {
      moved = transition(next, "", List.of());
    }
    if (moved == null) {
      throw new IllegalStateException("model '" + name() + "' cannot move from " + state()
          + " to " + next);
    }
    announce(moved);
  }

  /**
   * The first start's progress: moves forward step by step up to {@code target} (several
   * replicas start at once; the furthest one drives the state). No-op once READY was reached.
   */
  void reach(DeploymentState target) {
    List<Moved> moves = new ArrayList<>();
    synchronized (this) {
      stepUpTo(target, moves);
    }
    moves.forEach(this::announce);
  }

  /**
   * Marks the deployment FAILED; false (and no change) when it already failed or stopped.
   * A true answer obliges the caller to {@link #release} it.
   */
  boolean fail(String why, List<String> logLines) {
    return apply(DeploymentState.FAILED, why, logLines);
  }

  /** Marks the deployment STOPPED (undeployed or replaced); false when already STOPPED. */
  boolean markStopped() {
    return apply(DeploymentState.STOPPED, null, null);
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
    if (released || state.isTerminal()) {
      return false;
    }
    replica.attach(runtime);
    return true;
  }

  /** The replica passed validation: it takes calls, and the deployment is (again) READY. */
  void replicaReady(Replica replica) {
    List<Moved> moves = new ArrayList<>();
    synchronized (this) {
      if (state.isTerminal()) {
        return;
      }
      replica.markReady();
      if (readySince == null) {
        stepUpTo(DeploymentState.READY, moves);
      } else if (state == DeploymentState.STARTING) {
        // The reason it left READY stays (with restarts > 0) so the operator sees why.
        Moved moved = transition(DeploymentState.READY, null, null);
        if (moved != null) {
          moves.add(moved);
        }
      }
    }
    moves.forEach(this::announce);
  }

  /**
   * The replica's runtime died or stopped answering: out of routing now, its channel closed
   * at once (in-flight calls fail UNAVAILABLE), and the deployment leaves READY if no replica
   * is left. The caller stops the returned runtime.
   */
  Optional<Replica.Runtime> replicaDown(Replica replica, String why, List<String> logLines) {
    Optional<Replica.Runtime> old;
    Moved moved = null;
    synchronized (this) {
      old = replica.detach();
      if (!state.isTerminal()) {
        if (!logLines.isEmpty()) {
          lastLogLines = List.copyOf(logLines);
        }
        boolean anyReady = replicas.stream().anyMatch(Replica::isReady);
        if (state == DeploymentState.READY && !anyReady) {
          moved = transition(DeploymentState.STARTING, "replica " + replica.index() + ": " + why
              + "; restarting", logLines);
        }
      }
    }
    if (moved != null) {
      announce(moved);
    }
    old.ifPresent(runtime -> runtime.client().closeNow());
    return old;
  }

  synchronized void countRestart() {
    restarts++;
  }

  /** The one path to a runtime's Predict for client requests: the least-loaded ready replica. */
  public CompletableFuture<Payload> predict(Payload payload, Duration timeout) {
    for (int attempt = 0; attempt < 2; attempt++) { // once more if the pick died meanwhile
      Optional<Replica> best = router.pick(replicas);
      if (best.isEmpty()) {
        break;
      }
      CompletableFuture<Payload> answer = predictOn(best.get(), payload, timeout);
      if (answer != null) {
        return answer;
      }
    }
    return CompletableFuture.failedFuture(new GatewayException(ErrorKind.UNAVAILABLE,
        "model '" + name() + "' has no ready runtime (" + state() + ")"));
  }

  /** Sends to one replica (validation uses this); null when it has no runtime now. */
  CompletableFuture<Payload> predictOn(Replica replica, Payload payload, Duration timeout) {
    CompletableFuture<Payload> answer = replica.predict(payload, timeout);
    if (answer == null) {
      return null;
    }
    return answer.handle((value, error) -> {
      if (error == null) {
        return value;
      }
      Throwable cause = error instanceof CompletionException ? error.getCause() : error;
      // Name the real reason (e.g. the runtime exited) rather than "channel shut down".
      if (cause instanceof GatewayException e && e.kind() == ErrorKind.UNAVAILABLE) {
        DeploymentView now = view();
        if (!now.reason().isEmpty()) {
          throw new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name()
              + "' runtime is unavailable: " + now.state() + " (" + now.reason() + ")", cause);
        }
      }
      throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
    });
  }

  /**
   * Lets go of every runtime: closes the channels (letting in-flight calls finish when
   * {@code graceful}, failing them at once otherwise) and stops them. Blocking; once.
   */
  void release(boolean graceful) {
    List<Replica.Runtime> toStop = new ArrayList<>();
    synchronized (this) {
      if (released) {
        return;
      }
      released = true;
      replicas.forEach(replica -> replica.detach().ifPresent(toStop::add));
    }
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
    settled.complete(view());
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

  private record Moved(DeploymentState from, DeploymentView view) {}

  private boolean apply(DeploymentState next, String why, List<String> logLines) {
    Moved moved;
    synchronized (this) {
      moved = transition(next, why, logLines);
    }
    if (moved == null) {
      return false;
    }
    announce(moved);
    return true;
  }

  /** Guarded by this. */
  private void stepUpTo(DeploymentState target, List<Moved> moves) {
    while (readySince == null && !state.isTerminal() && state.ordinal() < target.ordinal()) {
      Moved moved = transition(DeploymentState.values()[state.ordinal() + 1], "", List.of());
      if (moved == null) {
        return;
      }
      moves.add(moved);
    }
  }

  /**
   * Guarded by this; null when the move is not allowed. why/logLines null: keep the current
   * ones (a stop keeps the reason of an earlier failure).
   */
  private Moved transition(DeploymentState next, String why, List<String> logLines) {
    if (!state.canMoveTo(next)) {
      return null;
    }
    DeploymentState previous = state;
    state = next;
    stateChangedAt = Instant.now();
    if (next == DeploymentState.READY && readySince == null) {
      readySince = stateChangedAt;
    }
    if (why != null) {
      reason = why;
    }
    if (logLines != null) {
      lastLogLines = List.copyOf(logLines);
    }
    return new Moved(previous, view());
  }

  /**
   * Logs a move and settles on READY. Never under this lock: settling runs listeners (the
   * manager's routing switch takes its own lock, which in turn reads deployments' states).
   */
  private void announce(Moved moved) {
    DeploymentView view = moved.view();
    LOG.info(String.format("model '%s' version %d (deployment #%d): %s -> %s%s", name(),
        version(), id, moved.from(), view.state(),
        view.reason().isEmpty() ? "" : ": " + view.reason()));
    if (view.state() == DeploymentState.READY) {
      settled.complete(view); // FAILED and STOPPED settle in release(), once cleaned up
    }
  }
}
