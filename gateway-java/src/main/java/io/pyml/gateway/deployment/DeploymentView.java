package io.pyml.gateway.deployment;

import io.pyml.gateway.core.Histogram;
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
 * @param admission its admission queue and the payload bytes in flight at its runtimes
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
    Optional<Instant> readySince,
    AdmissionView admission) {

  public DeploymentView {
    lastLogLines = List.copyOf(lastLogLines);
  }

  /**
   * @param queued calls waiting for room at a runtime now
   * @param rejections calls refused because the queue was full
   * @param bytesInFlight payload bytes of the calls its runtimes hold now
   * @param batchSizes calls sent to a runtime together (1 without batching)
   * @param queueDelays seconds from a call's arrival until it was sent to a runtime
   */
  public record AdmissionView(int queued, long rejections, long bytesInFlight,
      Histogram.Snapshot batchSizes, Histogram.Snapshot queueDelays) {}
}
