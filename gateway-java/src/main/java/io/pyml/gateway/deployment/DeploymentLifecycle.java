package io.pyml.gateway.deployment;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * One deployment's state machine: its state, why it failed or last left READY, the runtime's
 * last log lines, and the future that settles it. Moves follow {@link DeploymentState}'s table;
 * each is logged once.
 *
 * <p>It locks the deployment's own monitor, not one of its own: the deployment changes a
 * replica and the state that change causes in one step (e.g. the last ready replica going
 * down leaves READY). Moves are made under that lock and announced after it is released.
 */
final class DeploymentLifecycle {
  private static final Logger LOG = Logger.getLogger(DeploymentLifecycle.class.getName());

  /** A move made under the lock; {@link #announce} it once the lock is released. */
  record Moved(DeploymentState from, DeploymentView view) {}

  private final Object lock;
  private final String name;
  private final String label;
  private final Supplier<DeploymentView> snapshot;
  private final ReadinessListener listener;
  private final CompletableFuture<DeploymentView> settled = new CompletableFuture<>();

  // Guarded by lock.
  private DeploymentState state = DeploymentState.PENDING;
  private String reason = "";
  private List<String> lastLogLines = List.of();
  private Instant stateChangedAt = Instant.now();
  private Instant readySince;

  /**
   * @param lock the deployment's monitor
   * @param snapshot the deployment's view, taken under the lock at each move
   * @param listener told after moves are announced (the gateway's health follows them)
   */
  DeploymentLifecycle(Object lock, String name, long version, long id,
      Supplier<DeploymentView> snapshot, ReadinessListener listener) {
    this.listener = listener;
    this.lock = lock;
    this.name = name;
    this.label = String.format("model '%s' version %d (deployment #%d)", name, version, id);
    this.snapshot = snapshot;
  }

  DeploymentState state() {
    synchronized (lock) {
      return state;
    }
  }

  String reason() {
    synchronized (lock) {
      return reason;
    }
  }

  List<String> lastLogLines() {
    synchronized (lock) {
      return lastLogLines;
    }
  }

  Instant stateChangedAt() {
    synchronized (lock) {
      return stateChangedAt;
    }
  }

  Optional<Instant> readySince() {
    synchronized (lock) {
      return Optional.ofNullable(readySince);
    }
  }

  /** True once READY was reached: failures after that restart, before it fail. */
  boolean wasReady() {
    synchronized (lock) {
      return readySince != null;
    }
  }

  /** See {@link Deployment#settled()}. */
  CompletableFuture<DeploymentView> settled() {
    return settled;
  }

  /** A lifecycle step; throws IllegalStateException when the move is not allowed. */
  void advance(DeploymentState next) {
    Moved moved;
    synchronized (lock) {
      moved = move(next, "", List.of());
      if (moved == null) {
        throw new IllegalStateException("model '" + name + "' cannot move from " + state + " to " + next);
      }
    }
    announce(List.of(moved));
  }

  /**
   * The first start's progress: forward step by step up to {@code target} (several replicas
   * start at once; the furthest one drives the state). No-op once READY was reached.
   */
  void reach(DeploymentState target) {
    List<Moved> moves = new ArrayList<>();
    synchronized (lock) {
      stepUpTo(target, moves);
    }
    announce(moves);
  }

  /**
   * Moves to {@code next} (FAILED or STOPPED) and announces it; false, with no change, when the
   * move is not allowed. why/logLines null: keep the current ones.
   */
  boolean end(DeploymentState next, String why, List<String> logLines) {
    Moved moved;
    synchronized (lock) {
      moved = move(next, why, logLines);
    }
    if (moved == null) {
      return false;
    }
    announce(List.of(moved));
    return true;
  }

  /**
   * Under the lock: a replica passed validation. The first start steps up to READY; after a
   * restart STARTING goes back to READY and the reason it left stays, so the operator sees why.
   */
  List<Moved> replicaReady() {
    List<Moved> moves = new ArrayList<>();
    if (readySince == null) {
      stepUpTo(DeploymentState.READY, moves);
    } else if (state == DeploymentState.STARTING) {
      addIfMoved(moves, move(DeploymentState.READY, null, null));
    }
    return moves;
  }

  /**
   * Under the lock: a replica's runtime went down. Its log lines are kept; READY is left (to
   * STARTING, with why) when no replica is ready any more.
   */
  List<Moved> replicaDown(String why, List<String> logLines, boolean anyReady) {
    List<Moved> moves = new ArrayList<>();
    if (state.isTerminal()) {
      return moves;
    }
    if (!logLines.isEmpty()) {
      lastLogLines = List.copyOf(logLines);
    }
    if (state == DeploymentState.READY && !anyReady) {
      addIfMoved(moves, move(DeploymentState.STARTING, why, logLines));
    }
    return moves;
  }

  /**
   * Logs moves and settles on READY. Never under the lock: settling runs listeners (the
   * manager's routing switch takes its own lock, which in turn reads deployments' states).
   */
  void announce(List<Moved> moves) {
    for (Moved moved : moves) {
      DeploymentView view = moved.view();
      LOG.info(String.format("%s: %s -> %s%s", label, moved.from(), view.state(),
          view.reason().isEmpty() ? "" : ": " + view.reason()));
      if (view.state() == DeploymentState.READY) {
        settled.complete(view); // FAILED and STOPPED settle once released: see settle()
      }
    }
    if (!moves.isEmpty()) {
      listener.readinessMayHaveChanged();
    }
  }

  /** A FAILED or STOPPED deployment whose runtimes are released: its waiters may go on. */
  void settle(DeploymentView view) {
    settled.complete(view);
  }

  private static void addIfMoved(List<Moved> moves, Moved moved) {
    if (moved != null) {
      moves.add(moved);
    }
  }

  /** Under the lock. */
  private void stepUpTo(DeploymentState target, List<Moved> moves) {
    while (readySince == null && !state.isTerminal() && state.ordinal() < target.ordinal()) {
      Moved moved = move(DeploymentState.values()[state.ordinal() + 1], "", List.of());
      if (moved == null) {
        return;
      }
      moves.add(moved);
    }
  }

  /**
   * Under the lock; null when the move is not allowed. why/logLines null: keep the current
   * ones (a stop keeps the reason of an earlier failure).
   */
  private Moved move(DeploymentState next, String why, List<String> logLines) {
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
    return new Moved(previous, snapshot.get());
  }
}
