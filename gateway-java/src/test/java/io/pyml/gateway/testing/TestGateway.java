package io.pyml.gateway.testing;

import io.pyml.gateway.Gateway;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SocketDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A gateway of fake runtimes for a test class: its own work folder (under /tmp, short enough
 * for socket paths), a home folder to deploy from, the gateway and a client of its gRPC port;
 * {@link #close} stops them and removes the folder.
 */
public record TestGateway(Path work, Path home, Gateway gateway, TestClient client)
    implements AutoCloseable {

  /** @param settings changes to the ephemeral test config (limits, deadlines, logs) */
  public static TestGateway start(String prefix, UnaryOperator<GatewayConfig> settings,
      SidecarLauncher launcher) throws Exception {
    Path work = Files.createTempDirectory(Path.of("/tmp"), prefix);
    Path home = Files.createDirectories(work.resolve("home"));
    Gateway gateway = Gateway.start(settings.apply(TestConfigs.ephemeral(work.resolve("w"))),
        launcher);
    return new TestGateway(work, home, gateway, new TestClient(gateway.grpcPort()));
  }

  @Override
  public void close() {
    client.close();
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }
}
