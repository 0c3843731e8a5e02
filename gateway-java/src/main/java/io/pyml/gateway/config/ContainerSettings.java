package io.pyml.gateway.config;

import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RuntimeWorkers;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How the gateway serves registered versions as containers.
 *
 * @param registryDir the registry the Python SDK writes (default {@code $PYML_HOME/registry})
 * @param dockerHost the Docker engine's address, e.g. {@code unix:///var/run/docker.sock}
 * @param gatewayId the value of the {@code io.pyml.gateway} label on this gateway's
 *     containers; leftovers with the same id are removed at start
 * @param limits each runtime container's limits unless a deploy request overrides them
 * @param hostWorkDir the work dir as the Docker engine sees it, when the gateway runs in a
 *     container (bind sources of socket folders must be paths on the engine's host); empty:
 *     the gateway's own paths
 * @param runtimeWorkers runtime workers (Python processes, each loading the model) per runtime,
 *     containers and development processes alike; 0 (the default): one per CPU of the runtime's
 *     CPU limit, 1 to 8 ({@link RuntimeWorkers#resolve})
 */
public record ContainerSettings(Path registryDir, String dockerHost, String gatewayId,
    ResourceLimits limits, Optional<String> hostWorkDir, int runtimeWorkers) {
  public static final String DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";
  public static final String DEFAULT_GATEWAY_ID = "default";
  /** Label values and log lines: keep ids plain. */
  public static final Pattern GATEWAY_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public ContainerSettings {
    Objects.requireNonNull(registryDir, "registryDir");
    Objects.requireNonNull(dockerHost, "dockerHost");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(hostWorkDir, "hostWorkDir");
    if (!GATEWAY_ID.matcher(gatewayId).matches()) {
      throw new IllegalArgumentException("gateway id '" + gatewayId + "' is not valid");
    }
    if (runtimeWorkers < 0 || runtimeWorkers > RuntimeWorkers.MAX) {
      throw new IllegalArgumentException("runtime workers " + runtimeWorkers + " is out of "
          + "range (expected: 0 for one per CPU, or 1 to " + RuntimeWorkers.MAX + ")");
    }
  }

  /** One runtime worker per CPU of each runtime's limit. */
  public ContainerSettings(Path registryDir, String dockerHost, String gatewayId,
      ResourceLimits limits, Optional<String> hostWorkDir) {
    this(registryDir, dockerHost, gatewayId, limits, hostWorkDir, 0);
  }
}
