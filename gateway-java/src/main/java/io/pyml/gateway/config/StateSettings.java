package io.pyml.gateway.config;

import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.registry.ModelRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a gateway keeps across restarts, and how long it rides out a Docker outage.
 *
 * @param stateDir where the desired deployments are recorded (default
 *     {@code $PYML_HOME/gateway/<gateway id>}); a restarted gateway with the same id and state
 *     folder serves them again and adopts its healthy containers
 * @param dockerRetry how long failed container starts (Docker away, a runtime killed while it
 *     loads) are retried, with capped exponential backoff, before a deployment is FAILED for good
 */
public record StateSettings(Path stateDir, Duration dockerRetry) {
  public static final Duration DEFAULT_DOCKER_RETRY = DeploymentManager.DEFAULT_DOCKER_RETRY;

  public StateSettings {
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(dockerRetry, "dockerRetry");
    if (dockerRetry.isNegative()) {
      throw new IllegalArgumentException("docker retry must not be negative: " + dockerRetry);
    }
  }

  /** {@code $PYML_HOME/gateway/<gatewayId>}, next to the registry. */
  public static Path defaultDir(Map<String, String> env, String gatewayId) {
    return ModelRegistry.defaultDir(env).resolveSibling("gateway").resolve(gatewayId);
  }

  public static StateSettings defaults(Map<String, String> env, String gatewayId) {
    return new StateSettings(defaultDir(env, gatewayId), DEFAULT_DOCKER_RETRY);
  }
}
