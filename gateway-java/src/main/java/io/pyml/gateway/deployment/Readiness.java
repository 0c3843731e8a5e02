package io.pyml.gateway.deployment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Whether the gateway serves what it was asked to serve: one entry per deployed model name,
 * for its live deployment (the one predictions go to; a candidate replacing a READY one does
 * not count: the READY one serves meanwhile). Ready when every entry is READY, so with no
 * model deployed the gateway is ready: it serves all that is desired, and an empty gateway
 * must take the Admin Deploy calls that fill it. An operator who needs given models names them
 * ({@link #of}); a name that is not deployed is then not ready.
 *
 * @param stopping the gateway is shutting down: not ready whatever the models' states
 */
public record Readiness(boolean stopping, List<ModelReadiness> models) {
  public Readiness {
    models = List.copyOf(models);
  }

  /**
   * One model name.
   *
   * @param version its live deployment's version; 0 when not deployed
   * @param state its live deployment's state; empty when no deployment has this name
   */
  public record ModelReadiness(String name, long version, Optional<DeploymentState> state) {
    public boolean ready() {
      return state.equals(Optional.of(DeploymentState.READY));
    }

    static ModelReadiness notDeployed(String name) {
      return new ModelReadiness(name, 0, Optional.empty());
    }
  }

  public boolean ready() {
    return !stopping && models.stream().allMatch(ModelReadiness::ready);
  }

  /** The models that keep the gateway from being ready. */
  public List<ModelReadiness> notReady() {
    return models.stream().filter(model -> !model.ready()).toList();
  }

  /** The same, limited to {@code names} (each once, in the order given). */
  public Readiness of(Collection<String> names) {
    Map<String, ModelReadiness> byName = models.stream()
        .collect(Collectors.toMap(ModelReadiness::name, Function.identity()));
    List<ModelReadiness> chosen = new ArrayList<>();
    for (String name : new LinkedHashSet<>(names)) {
      chosen.add(byName.getOrDefault(name, ModelReadiness.notDeployed(name)));
    }
    return new Readiness(stopping, chosen);
  }

  /** The same, with the gateway stopping. */
  public Readiness whileStopping() {
    return new Readiness(true, models);
  }
}
