package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.PredictResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runtimes that die, fail to load or fail validation, and replacing a live model. */
class GatewayLifecycleTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("bad-validation", FakeModel.dataframe().failingValidation())
      .model("cannot-load", FakeModel.dataframe().exitingOnLoad())
      .model("swap", 2, FakeModel.dataframe().failingValidation());

  static Path work;
  static Path home;
  static Gateway gateway;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-glt-");
    home = Files.createDirectories(work.resolve("home"));
    gateway = Gateway.start(GatewayConfig.defaults().withGrpcPort(0).withThriftPort(0).withOipPort(0)
        .withWorkDir(work.resolve("w")).withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    client = new TestClient(gateway.grpcPort());
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, client.deploy("steady", 1, home).getState());
  }

  @AfterAll
  static void stop() {
    client.close();
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  @AfterEach
  void steadyStillServes() {
    assertEquals("ydaets", client.predict(request("steady", "steady"))
        .getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void aDyingRuntimeFailsInFlightCallsAtOnceAndLeavesReady() throws Exception {
    client.deploy("dying", 1, home);
    FakeSidecar sidecar = LAUNCHER.latest("dying", 1);
    CompletableFuture<PredictResponse> inFlight =
        CompletableFuture.supplyAsync(() -> client.predict(request("dying", FakeModel.HANG)));
    assertTrue(sidecar.runtime().hangStarted.await(10, TimeUnit.SECONDS));

    long start = System.nanoTime();
    sidecar.die(137);
    ExecutionException error =
        assertThrows(ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    StatusRuntimeException status = assertInstanceOf(StatusRuntimeException.class, error.getCause());
    assertEquals(Status.Code.UNAVAILABLE, status.getStatus().getCode(), status.toString());
    assertTrue(status.getStatus().getDescription().startsWith("model 'dying'"),
        status.getStatus().getDescription());
    assertTrue(elapsedMs < 5_000, "failed after " + elapsedMs + " ms, not at once");

    Deployment failed = client.get("dying");
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED, failed.getState());
    assertEquals("runtime process exited with code 137", failed.getReason());
    assertTrue(failed.getLastLogLinesList().contains("Killed"), failed.toString());

    StatusRuntimeException later = client.predictFails(request("dying", "x"));
    assertEquals(Status.Code.UNAVAILABLE, later.getStatus().getCode());
    assertEquals("model 'dying' is not ready: FAILED (runtime process exited with code 137)",
        later.getStatus().getDescription());
  }

  @Test
  void aFailingValidationEndsFailedWithTheDiff() {
    Deployment deployment = client.deploy("bad-validation", 1, home);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED, deployment.getState());
    assertEquals("validation failed: " + FakeModel.VALIDATION_DIFF, deployment.getReason());
    assertFalse(deployment.getLastLogLinesList().isEmpty());
    assertTrue(LAUNCHER.latest("bad-validation", 1).stopped(), "its runtime was stopped");
    // The validation input went through the real Predict path before the check.
    assertEquals(FakeModel.VALIDATION_INPUT,
        LAUNCHER.latest("bad-validation", 1).runtime().received.get(0).toStringUtf8());
    StatusRuntimeException error = client.predictFails(request("bad-validation", "x"));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().startsWith(
        "model 'bad-validation' is not ready: FAILED (validation failed: column 'proba'"));
  }

  @Test
  void aModelThatCannotLoadEndsFailedWithTheRuntimesLastWords() {
    Deployment deployment = client.deploy("cannot-load", 1, home);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED, deployment.getState());
    assertEquals("runtime process exited with code 1", deployment.getReason());
    assertTrue(deployment.getLastLogLinesList().contains("ValueError: cannot load weights"),
        deployment.toString());
  }

  @Test
  void aNewVersionReplacesTheOldOnlyOnceReady() throws Exception {
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, client.deploy("swap", 1, home).getState());
    assertEquals(1, client.predict(request("swap", "a")).getModelVersion());

    Deployment broken = client.deploy("swap", 2, home);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED, broken.getState());
    assertEquals(1, client.predict(request("swap", "a")).getModelVersion(), "old one serves");
    assertFalse(LAUNCHER.latest("swap", 1).stopped());

    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, client.deploy("swap", 3, home).getState());
    assertEquals(3, client.predict(request("swap", "a")).getModelVersion());
    assertEquals(3, client.get("swap").getModelVersion());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!LAUNCHER.latest("swap", 1).stopped() && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertTrue(LAUNCHER.latest("swap", 1).stopped(), "the replaced runtime is stopped");
    StatusRuntimeException old =
        client.predictFails(request("swap", "a").toBuilder().setModelVersion(1).build());
    assertEquals(Status.Code.NOT_FOUND, old.getStatus().getCode());
    assertEquals("model 'swap' version 1 is not deployed (live version: 3)",
        old.getStatus().getDescription());
  }

  @Test
  void aBadDeployRequestIsInvalidArgument() {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> client.deploy("x", 1, home.resolve("missing")));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("does not exist"));
    error = assertThrows(StatusRuntimeException.class, () -> client.deploy("bad name", 1, home));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
  }
}
