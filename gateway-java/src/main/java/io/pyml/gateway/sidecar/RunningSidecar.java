package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A launched runtime: where it listens, when it ends, what it logged, and how to stop it. */
public interface RunningSidecar {
  /** The Unix socket the runtime serves on (it may not exist yet right after launch). */
  Path socketPath();

  /**
   * The sockets of every runtime worker, worker 0's ({@link #socketPath}) first; the runtime
   * serves once all of them answer.
   */
  default List<Path> socketPaths() {
    return List.of(socketPath());
  }

  /** Completes with the exit code when the runtime ends, for whatever reason. */
  CompletableFuture<Integer> onExit();

  /** Why the runtime ended, in words for the operator (called after {@link #onExit}). */
  default String describeExit(int code) {
    return "runtime process exited with code " + code;
  }

  /**
   * True when the exit was not the runtime's doing (killed by a signal from outside, or its
   * engine lost track of it): a start that ends so is worth retrying. Called after onExit.
   */
  default boolean killedFromOutside(int code) {
    return false;
  }

  /** The runtime's last {@code lines} log lines, oldest first; empty when none are known. */
  List<String> logTail(int lines);

  /**
   * True when a next gateway with the same id can adopt this runtime if it is left running
   * (a container, found by its labels); a local process cannot be.
   */
  default boolean adoptable() {
    return false;
  }

  /** Stops the runtime (gracefully, then forcibly) and removes its socket folder. Idempotent. */
  void stop();
}
