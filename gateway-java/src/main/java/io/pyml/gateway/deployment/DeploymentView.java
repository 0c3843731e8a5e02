package io.pyml.gateway.deployment;

import io.pyml.gateway.core.PayloadKind;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A consistent snapshot of a deployment, for front ends to report.
 *
 * @param homePath the home folder of a process deployment; empty for containers
 * @param image the image of a container deployment; empty for processes
 * @param readySince when it first became READY
 */
public record DeploymentView(
    String name,
    long version,
    DeploymentState state,
    String reason,
    List<String> lastLogLines,
    PayloadKind kind,
    String homePath,
    Instant stateChangedAt,
    int replicas,
    int readyReplicas,
    long restarts,
    String image,
    Optional<Instant> readySince) {

  public DeploymentView {
    lastLogLines = List.copyOf(lastLogLines);
  }
}
