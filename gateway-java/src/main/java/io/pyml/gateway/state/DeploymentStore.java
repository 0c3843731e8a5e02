package io.pyml.gateway.state;

import java.util.List;

/**
 * Where a gateway keeps its desired deployments, so that a restarted gateway serves them again
 * without a redeploy. One entry per model name. Today a JSON file ({@link JsonFileDeploymentStore});
 * the multi-user work puts an embedded database behind the same interface.
 */
public interface DeploymentStore {
  /** Every desired deployment, by name; empty when none was ever recorded. */
  List<DesiredDeployment> load() throws StateException;

  /** Records (or replaces) the desired deployment of {@code desired.name()}, durably. */
  void put(DesiredDeployment desired) throws StateException;

  /** Forgets the model name (undeployed); no-op when it is not recorded. */
  void remove(String name) throws StateException;

  /** A store that keeps nothing: embedders and tests that want no persistence. */
  static DeploymentStore none() {
    return new DeploymentStore() {
      @Override
      public List<DesiredDeployment> load() {
        return List.of();
      }

      @Override
      public void put(DesiredDeployment desired) {}

      @Override
      public void remove(String name) {}
    };
  }
}
