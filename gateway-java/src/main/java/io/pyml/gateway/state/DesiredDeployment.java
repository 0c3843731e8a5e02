package io.pyml.gateway.state;

import java.util.Objects;

/**
 * What an operator asked a gateway to serve under one model name: a registered version, the
 * image it was resolved to, how many replicas and the resource overrides of the request (0: the
 * gateway's default). Only the request, never runtime state (containers, sockets, health).
 */
public record DesiredDeployment(String name, long version, String image, int replicas,
    long memoryBytes, double cpus, int pids) {
  public DesiredDeployment {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(image, "image");
    if (name.isBlank() || image.isBlank()) {
      throw new IllegalArgumentException("a desired deployment needs a name and an image");
    }
    if (version < 1 || replicas < 1 || memoryBytes < 0 || cpus < 0 || pids < 0
        || Double.isNaN(cpus)) {
      throw new IllegalArgumentException("desired deployment '" + name + "' is out of range: "
          + "version=" + version + ", replicas=" + replicas + ", memory_bytes=" + memoryBytes
          + ", cpus=" + cpus + ", pids=" + pids);
    }
  }
}
