package io.pyml.gateway.deployment;

/**
 * Told when {@link DeploymentManager#readiness()} may have changed: a deployment moved
 * between states, or the routing table changed (a deploy, a swap, an undeploy). It is called
 * on the thread that made the change, with no lock of the manager or a deployment held; it
 * reads the readiness again rather than trusting an order of calls.
 */
@FunctionalInterface
public interface ReadinessListener {
  ReadinessListener NONE = () -> { };

  void readinessMayHaveChanged();
}
