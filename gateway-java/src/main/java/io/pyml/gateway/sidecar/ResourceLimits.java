package io.pyml.gateway.sidecar;

/**
 * Limits of one runtime container. Zero means "not set": {@link #orElse} fills it from the
 * gateway's defaults, so a deploy request can override only what it names.
 */
public record ResourceLimits(long memoryBytes, double cpus, int pids) {
  public static final ResourceLimits NONE = new ResourceLimits(0, 0, 0);
  /** As `pyml_launcher.local` runs a model image: enough for the examples, small on 2 cores. */
  public static final ResourceLimits DEFAULTS = new ResourceLimits(1024L * 1024 * 1024, 1.0, 256);
  /** Docker refuses less than 6 MiB; a runtime would not even start below a few dozen. */
  public static final long MIN_MEMORY_BYTES = 6L * 1024 * 1024;

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
