package io.pyml.gateway.deployment;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where a deployment is in its life. The allowed moves are listed here, once: any other move is
 * a bug (or a race that lost, e.g. a step finishing after the runtime died) and is refused.
 */
public enum DeploymentState {
  PENDING,
  STARTING,
  LOADING,
  VALIDATING,
  READY,
  FAILED,
  STOPPED;

  public Set<DeploymentState> next() {
    return switch (this) {
      case PENDING -> EnumSet.of(STARTING, FAILED, STOPPED);
      // STARTING -> READY: a restarted replica passed validation again (see READY -> STARTING).
      case STARTING -> EnumSet.of(LOADING, READY, FAILED, STOPPED);
      case LOADING -> EnumSet.of(VALIDATING, FAILED, STOPPED);
      case VALIDATING -> EnumSet.of(READY, FAILED, STOPPED);
      // READY -> STARTING: no replica is ready any more, they are being restarted.
      case READY -> EnumSet.of(STARTING, FAILED, STOPPED);
      // A failed deployment keeps its reason until it is undeployed or replaced.
      case FAILED -> EnumSet.of(STOPPED);
      case STOPPED -> EnumSet.noneOf(DeploymentState.class);
    };
  }

  public boolean canMoveTo(DeploymentState target) {
    return next().contains(target);
  }

  /** FAILED and STOPPED: the runtime is (being) released and will not serve again. */
  public boolean isTerminal() {
    return this == FAILED || this == STOPPED;
  }
}
