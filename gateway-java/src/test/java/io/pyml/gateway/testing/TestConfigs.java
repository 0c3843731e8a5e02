package io.pyml.gateway.testing;

import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.config.StateSettings;
import java.nio.file.Path;

/** Gateway configurations for in-process tests. */
public final class TestConfigs {
  private TestConfigs() {}

  /**
   * Every front end on an ephemeral port, so test classes (and other gateways on the machine)
   * never compete for a fixed one; runtimes' sockets under {@code workDir}.
   */
  public static GatewayConfig ephemeral(Path workDir) {
    // Its own state folder beside the work dir: tests never restore another run's deployments.
    return GatewayConfig.defaults().withGrpcPort(0).withHttpPort(0).withThriftPort(0)
        .withOipPort(0).withWorkDir(workDir)
        .withState(new StateSettings(workDir.resolveSibling(workDir.getFileName() + "-state"),
            StateSettings.DEFAULT_DOCKER_RETRY));
  }
}
