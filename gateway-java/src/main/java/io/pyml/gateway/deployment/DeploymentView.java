package io.pyml.gateway.deployment;

import io.pyml.gateway.core.PayloadKind;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** A consistent snapshot of a deployment, for front ends to report. */
public record DeploymentView(
    String name,
    long version,
    DeploymentState state,
    String reason,
    List<String> lastLogLines,
    PayloadKind kind,
    Path home,
    Instant stateChangedAt) {

  public DeploymentView {
    lastLogLines = List.copyOf(lastLogLines);
  }
}
