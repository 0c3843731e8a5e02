package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Starts one model runtime that serves {@code pyml.v1.ModelRuntime} and gRPC health on a Unix
 * socket inside {@code socketDir}. Implementations: a local process today, a container later.
 */
public interface SidecarLauncher {
  /**
   * Starts the runtime and returns at once, without waiting for it to listen.
   *
   * @param socketDir a folder the launcher may create and owns until {@link RunningSidecar#stop}
   */
  RunningSidecar launch(String name, long version, Path home, Path socketDir) throws IOException;
}
