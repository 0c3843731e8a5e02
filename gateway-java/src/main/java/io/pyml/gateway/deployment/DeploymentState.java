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
      case STARTING -> EnumSet.of(LOADING, FAILED, STOPPED);
      case LOADING -> EnumSet.of(VALIDATING, FAILED, STOPPED);
      case VALIDATING -> EnumSet.of(READY, FAILED, STOPPED);
      case READY -> EnumSet.of(FAILED, STOPPED);
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
