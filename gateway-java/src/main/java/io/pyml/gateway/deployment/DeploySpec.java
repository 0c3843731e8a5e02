package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.registry.RegisteredVersion;
import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RuntimeSpec;
import io.pyml.gateway.state.DesiredDeployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What to deploy: a model name, its version, what each runtime runs (a home folder as a process
 * or a registered version's image as a container) and how many runtimes serve it.
 */
public record DeploySpec(String name, long version, RuntimeSpec runtime, int replicas) {
  /** Names travel in URLs, file names, registry paths and logs: keep them plain. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** More would only queue on a 2-core machine; a typo (1000) must not start 1000 containers. */
  public static final int MAX_REPLICAS = 16;

  public DeploySpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(runtime, "runtime");
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + replicas);
    }
  }

  /** One process runtime on a home folder (tests and development). */
  public DeploySpec(String name, long version, Path home) {
    this(name, version, RuntimeSpec.process(name, version, home), 1);
  }

  /** The home folder of a process deployment; empty for containers. */
  public String homePath() {
    return runtime.home().map(Path::toString).orElse("");
  }

  /** The image of a container deployment; empty for processes. */
  public String image() {
    return runtime.image().orElse("");
  }

  /**
   * What the operator asked for, to record: a registered version served as containers, with
   * the request's resource overrides. Empty for home folders: see {@link DeploymentManager}.
   */
  public Optional<DesiredDeployment> desired() {
    if (!runtime.isContainer()) {
      return Optional.empty();
    }
    ResourceLimits limits = runtime.limits();
    return Optional.of(new DesiredDeployment(name, version, image(), replicas,
        limits.memoryBytes(), limits.cpus(), limits.pids()));
  }

  /**
   * The spec of a recorded deployment, checked again against the registry (the version must
   * still be there, ready and untampered, built as the same image).
   */
  public static DeploySpec restored(DesiredDeployment desired, ModelRegistry registry) {
    ResourceLimits limits;
    try {
      limits = new ResourceLimits(desired.memoryBytes(), desired.cpus(), desired.pids());
    } catch (IllegalArgumentException e) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, e.getMessage());
    }
    DeploySpec spec = of(desired.name(), desired.version(), "", desired.replicas(), limits,
        registry);
    if (!spec.image().equals(desired.image())) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "version " + desired.name()
          + ":" + desired.version() + " now names image " + spec.image() + " in the registry, "
          + "but was deployed as image " + desired.image() + "; not restoring it (deploy it "
          + "again to serve the registry's image)");
    }
    return spec;
  }

  /** The spec of a recorded deployment as it was recorded, to show why it was not restored. */
  static DeploySpec recorded(DesiredDeployment desired) {
    return new DeploySpec(desired.name(), desired.version(), RuntimeSpec.container(
        desired.name(), desired.version(), desired.image(), ResourceLimits.NONE),
        desired.replicas());
  }

  /**
   * Checks a deploy request from any front end. A home path deploys that folder as a process;
   * none deploys the registered version (0: newest ready) from {@code registry} as containers.
   * Bad requests are INVALID_INPUT; the registry's refusals keep their own kinds.
   */
  public static DeploySpec of(String name, long version, String homePath, int replicas,
      ResourceLimits limits, ModelRegistry registry) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model name '" + name
          + "' is not valid (expected: letters, digits, '.', '_', '-', at most 128)");
    }
    if (version < 0) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model version " + version
          + " is negative (expected: 0 for unversioned or newest, or >= 1)");
    }
    int count = replicas == 0 ? 1 : replicas;
    if (count < 1 || count > MAX_REPLICAS) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "replicas " + replicas
          + " is out of range (expected: 1 to " + MAX_REPLICAS + ", 0 for 1)");
    }
    if (homePath == null || homePath.isBlank()) {
      RegisteredVersion registered = registry.resolve(name, version);
      return new DeploySpec(name, registered.version(), RuntimeSpec.container(
          name, registered.version(), registered.image(), limits), count);
    }
    Path home = Path.of(homePath).toAbsolutePath().normalize();
    if (!Files.isDirectory(home)) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "home folder '" + home + "' does not exist on the gateway's machine");
    }
    return new DeploySpec(name, version, RuntimeSpec.process(name, version, home), count);
  }
}
