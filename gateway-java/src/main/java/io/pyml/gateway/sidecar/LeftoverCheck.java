package io.pyml.gateway.sidecar;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a container a previous run of the gateway left may serve {@code spec} again: it
 * runs, from the image the deployment wants, with the limits and runtime workers it would get
 * now, and every worker's socket, in a folder under the gateway's work dir, accepts. Anything
 * else is replaced.
 */
final class LeftoverCheck {
  private LeftoverCheck() {}

  /** Why the container may not be adopted; empty when it may. */
  static Optional<String> refusal(DockerClient docker, Container container, RuntimeSpec spec,
      ResourceLimits limits, int workers, Path workDir) {
    if (!"running".equals(container.getState())) {
      return Optional.of("it is " + container.getState());
    }
    String image = spec.image().orElse("");
    if (!sameImage(container.getImageId(), image)) {
      return Optional.of("it runs image " + container.getImageId() + ", the deployment " + image);
    }
    String label = container.getLabels().get(DockerSidecarLauncher.SOCKET_DIR_LABEL);
    if (label == null) {
      return Optional.of("it has no " + DockerSidecarLauncher.SOCKET_DIR_LABEL + " label");
    }
    Path socketDir = Path.of(label).toAbsolutePath().normalize();
    Path work = workDir.toAbsolutePath().normalize();
    if (!socketDir.startsWith(work) || socketDir.equals(work)) {
      return Optional.of("its socket folder " + socketDir + " is not under the work dir " + work);
    }
    InspectContainerResponse inspected;
    try {
      inspected = docker.inspectContainerCmd(container.getId()).exec();
    } catch (RuntimeException e) {
      return Optional.of("cannot inspect it: " + e.getMessage());
    }
    HostConfig host = inspected.getHostConfig();
    if (host == null || !Objects.equals(host.getMemory(), limits.memoryBytes())
        || !Objects.equals(host.getNanoCPUs(), (long) (limits.cpus() * 1e9))
        || !Objects.equals(host.getPidsLimit(), (long) limits.pids())) {
      return Optional.of("its limits differ from the deployment's (" + limits + ")");
    }
    String labelled = container.getLabels()
        .getOrDefault(DockerSidecarLauncher.WORKERS_LABEL, "1");
    if (!labelled.equals(Integer.toString(workers))) {
      return Optional.of("it runs " + labelled + " runtime worker(s), the deployment " + workers);
    }
    for (Path socket : RuntimeWorkers.sockets(
        socketDir.resolve(ProcessSidecarLauncher.SOCKET_FILE), workers)) {
      if (!SocketProbe.accepts(socket)) {
        return Optional.of("its socket " + socket + " does not answer");
      }
    }
    return Optional.empty();
  }

  /** Image ids with or without their {@code sha256:} prefix. */
  static boolean sameImage(String a, String b) {
    return a != null && b != null && strip(a).equals(strip(b)) && !strip(a).isEmpty();
  }

  private static String strip(String id) {
    return id.startsWith("sha256:") ? id.substring("sha256:".length()) : id;
  }
}
