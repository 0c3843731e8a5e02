package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Starts one model runtime that serves {@code pyml.v1.ModelRuntime} and gRPC health on a Unix
 * socket inside {@code socketDir}: a local process ({@link ProcessSidecarLauncher}) or a
 * container ({@link DockerSidecarLauncher}).
 */
public interface SidecarLauncher extends AutoCloseable {
  /**
   * Starts the runtime and returns at once, without waiting for it to listen.
   *
   * @param socketDir a folder the launcher may create and owns until {@link RunningSidecar#stop}
   */
  RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException;

  /**
   * Checks, before a deployment is created, that {@code spec} can be launched at all (e.g. the
   * container engine answers, the image exists); throws a GatewayException saying why not.
   */
  default void preflight(RuntimeSpec spec) {}

  /**
   * Takes over a runtime of {@code spec} that a previous run of this gateway left serving with
   * its socket under {@code workDir}; empty when there is none (then a new one is launched).
   */
  default Optional<RunningSidecar> adopt(RuntimeSpec spec, Path workDir) {
    return Optional.empty();
  }

  /** Ends the runtimes a previous run left that no deployment adopted (and their folders). */
  default void removeUnadopted(Path workDir) {}

  /** Releases what the launcher holds (connections); runtimes are stopped by their owners. */
  @Override
  default void close() {}

  /**
   * {@link #close}, leaving running the runtimes their owners left for the next gateway to
   * adopt (no sweep of this gateway's runtimes).
   */
  default void closeLeavingRuntimes() {
    close();
  }
}
