package io.pyml.gateway.deployment;

import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.util.Objects;

/**
 * What a deploy request may ask of this gateway: registered versions from {@code registry},
 * home folders only as {@code homes} allows, resource overrides up to {@code maxima}.
 */
public record DeployRules(ModelRegistry registry, HomeDeployPolicy homes, ResourceLimits maxima) {
  public DeployRules {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(homes, "homes");
    Objects.requireNonNull(maxima, "maxima");
  }
}
