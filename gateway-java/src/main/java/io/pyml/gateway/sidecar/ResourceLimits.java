package io.pyml.gateway.sidecar;

import java.util.Optional;

/**
 * Limits of one runtime container. Zero means "not set": {@link #orElse} fills it from the
 * gateway's defaults, so a deploy request can override only what it names.
 */
public record ResourceLimits(long memoryBytes, double cpus, int pids) {
  public static final ResourceLimits NONE = new ResourceLimits(0, 0, 0);
  /**
   * Memory and processes from container_policy.json (1 GiB, enough for the examples; 256
   * processes: pyml_launcher.local's defaults too), every CPU the gateway sees (a runtime runs
   * a worker per CPU, {@link RuntimeWorkers}: a 1-CPU default would make a 2-core machine serve
   * like a 1-core one; containers share the CPUs, they are not reserved).
   */
  public static final ResourceLimits DEFAULTS = policyDefaults(ContainerPolicy.load());
  /** Docker refuses less than 6 MiB; a runtime would not even start below a few dozen. */
  public static final long MIN_MEMORY_BYTES = 6L * 1024 * 1024;
  /**
   * What one deploy request may ask for at most unless the operator says otherwise: 4 GiB
   * (four times the default: room for a large model, while a 16 GiB typo cannot take a small
   * host's memory), every CPU the gateway sees (more means nothing), 1024 processes (four
   * times the default; a fork bomb stays bounded).
   */
  public static final ResourceLimits DEFAULT_MAXIMA = new ResourceLimits(4L * 1024 * 1024 * 1024,
      Runtime.getRuntime().availableProcessors(), 1024);

  public ResourceLimits {
    if (memoryBytes < 0 || cpus < 0 || pids < 0 || Double.isNaN(cpus)) {
      throw new IllegalArgumentException("resource limits must not be negative: memory_bytes="
          + memoryBytes + ", cpus=" + cpus + ", pids=" + pids);
    }
    if (memoryBytes > 0 && memoryBytes < MIN_MEMORY_BYTES) {
      throw new IllegalArgumentException("memory_bytes " + memoryBytes + " is below Docker's "
          + "minimum of " + MIN_MEMORY_BYTES + " bytes");
    }
  }

  /**
   * The first limit set here that is above {@code maxima}'s, as "field value (maximum: max,
   * --flag)"; empty when every one is within. Unset (zero) limits are within by definition.
   */
  public Optional<String> aboveMaximum(ResourceLimits maxima) {
    if (memoryBytes > maxima.memoryBytes()) {
      return Optional.of("memory_bytes " + memoryBytes + " is above this gateway's maximum of "
          + maxima.memoryBytes() + " (--max-container-memory-bytes)");
    }
    if (cpus > maxima.cpus()) {
      return Optional.of("cpus " + cpus + " is above this gateway's maximum of " + maxima.cpus()
          + " (--max-container-cpus)");
    }
    if (pids > maxima.pids()) {
      return Optional.of("pids " + pids + " is above this gateway's maximum of " + maxima.pids()
          + " (--max-container-pids)");
    }
    return Optional.empty();
  }

  static ResourceLimits policyDefaults(ContainerPolicy policy) {
    return new ResourceLimits(policy.runtimeDefaultMemoryBytes(),
        Runtime.getRuntime().availableProcessors(), policy.runtimeDefaultPids());
  }

  public ResourceLimits orElse(ResourceLimits defaults) {
    return new ResourceLimits(
        memoryBytes > 0 ? memoryBytes : defaults.memoryBytes(),
        cpus > 0 ? cpus : defaults.cpus(),
        pids > 0 ? pids : defaults.pids());
  }

  public long memoryMiB() {
    return memoryBytes / (1024 * 1024);
  }
}
