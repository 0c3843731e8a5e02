package io.pyml.gateway.frontend.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.testing.FakeLauncher;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** From the moment the gateway stops: not ready on every port, whatever changes after. */
class GatewayHealthStoppingTest {
  @Test
  void stoppingIsNotReadyAndStaysSoThroughLaterChanges(@TempDir Path work) throws Exception {
    try (SidecarTransport transport = new SidecarTransport(1 << 20)) {
      DeploymentManager deployments = new DeploymentManager(new FakeLauncher(), transport, work,
          Duration.ofSeconds(10));
      GatewayHealth health = GatewayHealth.following(deployments);
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(health.grpcService()).build().start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .usePlaintext().build();
      try {
        assertTrue(health.readiness().ready(), "no model deployed: ready");
        assertEquals(ServingStatus.SERVING, check(channel));

        health.stopping();
        assertFalse(health.readiness().ready());
        assertTrue(health.readiness().stopping());
        assertEquals(ServingStatus.NOT_SERVING, check(channel));
        deployments.close(); // tells the health of a change: it must not turn SERVING again
        assertEquals(ServingStatus.NOT_SERVING, check(channel));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static ServingStatus check(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus();
  }
}
