package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeRuntime;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.PredictResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
      .model("swap", 2, FakeModel.dataframe().failingValidation())
      .onRestart("crash-loop", FakeModel.dataframe().exitingOnLoad());

  static TestGateway running;
  static Path home;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-glt-",
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

    // Out of READY (no replica left) and being restarted, with the reason and the last words.
    Deployment down = client.get("dying");
    assertTrue(down.getState() == DeploymentState.DEPLOYMENT_STATE_STARTING
        || down.getState() == DeploymentState.DEPLOYMENT_STATE_READY, down.toString());
    Deployment back = client.await("dying", d -> d.getState()
        == DeploymentState.DEPLOYMENT_STATE_READY && d.getRestarts() > 0, Duration.ofSeconds(20));
    assertEquals(1, back.getRestarts(), back.toString());
    assertEquals(1, back.getReadyReplicas());
    assertEquals("replica 0: runtime process exited with code 137; restarting", back.getReason(),
        "why it last left READY stays visible");
    assertTrue(back.getLastLogLinesList().contains("Killed"), back.toString());
    assertEquals("x", client.predict(request("dying", "x")).getPayload().getArrowIpc()
        .toStringUtf8());
  }

  @Test
  void aRuntimeThatStopsAnsweringHealthChecksIsReplaced() throws Exception {
    client.deploy("frozen", 1, home);
    FakeSidecar frozen = LAUNCHER.latest("frozen", 1);
    long start = System.nanoTime();
    frozen.runtime().freeze(); // alive, as a stopped process is, but answering nothing

    Deployment back = client.await("frozen", d -> d.getState()
        == DeploymentState.DEPLOYMENT_STATE_READY && d.getRestarts() > 0, Duration.ofSeconds(20));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(1, back.getRestarts(), back.toString());
    assertTrue(back.getReason().startsWith(
        "replica 0: the runtime stopped answering health checks for "), back.getReason());
    // Unanswered for a second and three checks (ReplicaSupervisor.UNHEALTHY_AFTER, MIN_MISSED).
    assertTrue(elapsedMs >= 1_000, "replaced after only " + elapsedMs + " ms");
    assertTrue(frozen.stopped(), "the frozen runtime is stopped, not left beside its successor");
    assertEquals(2, LAUNCHER.launched().stream().filter(s -> s.name().equals("frozen")).count());
    assertEquals("x", client.predict(request("frozen", "x")).getPayload().getArrowIpc()
        .toStringUtf8());
  }

  @Test
  void anIdleRuntimeIsCheckedOnceASecondAndOneWithACallInFlightFourTimesASecond()
      throws Exception {
    client.deploy("checked", 1, home);
    FakeRuntime runtime = LAUNCHER.latest("checked", 1).runtime();
    int before = runtime.healthChecks.get();
    Thread.sleep(3_000);
    int idle = runtime.healthChecks.get() - before;
    // ReplicaSupervisor.IDLE_CHECK_PERIOD: 3 in 3 s (12 at CHECK_PERIOD, as before).
    assertTrue(idle >= 1 && idle <= 4, idle + " health checks of an idle runtime in 3 s");

    CompletableFuture<PredictResponse> held =
        CompletableFuture.supplyAsync(() -> client.predict(request("checked", FakeModel.HOLD)));
    assertTrue(runtime.holdStarted.await(10, TimeUnit.SECONDS));
    Thread.sleep(1_000); // the supervisor's idle wait ends: at most a second
    before = runtime.healthChecks.get();
    Thread.sleep(2_000);
    int busy = runtime.healthChecks.get() - before;
    runtime.release.complete(null);
    assertEquals("dloh", held.get(10, TimeUnit.SECONDS).getPayload().getArrowIpc()
        .toStringUtf8());
    // CHECK_PERIOD: 8 in 2 s while a call waits on the runtime.
    assertTrue(busy >= 5, busy + " health checks in 2 s with a call in flight");
  }

  @Test
  void aRuntimeThatKeepsDyingOnRestartEndsFailedAfterFiveTries() throws Exception {
    client.deploy("crash-loop", 1, home);
    long start = System.nanoTime();
    LAUNCHER.latest("crash-loop", 1).die(3);

    // Backoff 0.5 + 1 + 2 + 4 + 8 s between the five failed restarts: bounded by 30 s.
    Deployment failed = client.awaitState("crash-loop", DeploymentState.DEPLOYMENT_STATE_FAILED,
        Duration.ofSeconds(40));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(failed.getReason().startsWith("crash loop: 5 failed restarts in a row; last: "
        + "runtime process exited with code 1"), failed.getReason());
    assertEquals(5, failed.getRestarts());
    assertTrue(elapsedMs >= 7_000, "backoff grows: failed after only " + elapsedMs + " ms");
    StatusRuntimeException refused = client.predictFails(request("crash-loop", "x"));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
  }

  @Test
  void replicasShareTheLoadAndOneDyingLeavesTheDeploymentReady() throws Exception {
    Deployment deployment = client.deploy("pair", 1, home, 2);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, deployment.getState());
    Deployment both = client.awaitReplicas("pair", 2, Duration.ofSeconds(20));
    assertEquals(2, both.getReplicas());

    // A hung call keeps one replica busy: the least-loaded rule sends the rest to the other.
    CompletableFuture<PredictResponse> hung =
        CompletableFuture.supplyAsync(() -> client.predict(request("pair", FakeModel.HANG)));
    List<FakeSidecar> pair = LAUNCHER.launched().stream()
        .filter(l -> l.name().equals("pair")).toList();
    assertEquals(2, pair.size());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (pair.stream().noneMatch(l -> l.runtime().hangStarted.getCount() == 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    FakeSidecar busy = pair.stream().filter(l -> l.runtime().hangStarted.getCount() == 0)
        .findFirst().orElseThrow();
    FakeSidecar idle = pair.get(0) == busy ? pair.get(1) : pair.get(0);
    for (int i = 0; i < 5; i++) {
      assertEquals("ba", client.predict(request("pair", "ab")).getPayload().getArrowIpc()
          .toStringUtf8());
    }

    busy.die(137);
    assertThrows(ExecutionException.class, () -> hung.get(10, TimeUnit.SECONDS));
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, client.get("pair").getState(),
        "one replica is still ready");
    assertEquals("dc", client.predict(request("pair", "cd")).getPayload().getArrowIpc()
        .toStringUtf8());
    assertFalse(idle.stopped());
    Deployment healed = client.await("pair", d -> d.getReadyReplicas() == 2
        && d.getRestarts() > 0, Duration.ofSeconds(20));
    assertEquals(1, healed.getRestarts());
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
  void aBadDeployRequestIsRefused() {
    // Whether or not it exists, a folder outside the roots gets the same answer.
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> client.deploy("x", 1, home.resolve("missing")));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("not a folder under this gateway's "
        + "home-deploy roots"), error.getStatus().getDescription());
    error = assertThrows(StatusRuntimeException.class, () -> client.deploy("bad name", 1, home));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
  }
}
