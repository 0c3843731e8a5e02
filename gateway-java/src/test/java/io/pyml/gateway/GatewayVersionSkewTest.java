package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.pyml.gateway.core.GatewayVersion;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.DeploymentState;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model whose runtime speaks another sidecar protocol: the deploy fails for good with one
 * message, its runtime is stopped, and the other models keep serving.
 */
class GatewayVersionSkewTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("before-versioning", FakeModel.dataframe().speaking(0, "0.0.9"))
      .model("newer", FakeModel.dataframe().speaking(2, "0.2.0"));

  static TestGateway running;
  static Path home;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-gvs-",
        config -> config.withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    client = running.client();
    home = running.home();
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY,
        client.deploy("steady", 1, home).getState());
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @AfterEach
  void steadyStillServes() {
    assertEquals("ydaets", client.predict(request("steady", "steady"))
        .getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void aRuntimeFromBeforeVersioningFailsTheDeployWithTheFix() {
    assertFailedOnce("before-versioning", 7, "its runtime is PyML 0.0.9 (sidecar protocol 0: "
        + "from before versioning)", "serve it with a gateway of PyML 0.0.9");
  }

  @Test
  void aRuntimeOfANewerProtocolFailsTheDeployWithTheFix() {
    assertFailedOnce("newer", 2, "its runtime is PyML 0.2.0 (sidecar protocol 2)",
        "serve it with a gateway of PyML 0.2.0");
  }

  private static void assertFailedOnce(String model, long version, String runtime,
      String otherFix) {
    Deployment deployment = client.deploy(model, version, home);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED, deployment.getState());
    String gateway = GatewayVersion.current();
    assertEquals("model '" + model + "' version " + version + " cannot be served by this "
        + "gateway: " + runtime + " and this gateway is PyML " + gateway
        + " (sidecar protocol 1). Package the model again with PyML " + gateway
        + " (`pyml package`), or " + otherFix, deployment.getReason());
    // Permanent, like a bad image: one runtime started, stopped, never restarted.
    assertEquals(1, LAUNCHER.launched().stream().filter(s -> s.name().equals(model)).count());
    assertTrue(LAUNCHER.latest(model, version).stopped(), "its runtime was stopped");
    assertEquals(0, deployment.getRestarts());
    assertEquals(Status.Code.UNAVAILABLE,
        client.predictFails(request(model, "x")).getStatus().getCode());
  }
}
