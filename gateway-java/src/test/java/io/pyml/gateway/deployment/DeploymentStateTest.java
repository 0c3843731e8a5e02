package io.pyml.gateway.deployment;

import static io.pyml.gateway.deployment.DeploymentState.FAILED;
import static io.pyml.gateway.deployment.DeploymentState.LOADING;
import static io.pyml.gateway.deployment.DeploymentState.PENDING;
import static io.pyml.gateway.deployment.DeploymentState.READY;
import static io.pyml.gateway.deployment.DeploymentState.STARTING;
import static io.pyml.gateway.deployment.DeploymentState.STOPPED;
import static io.pyml.gateway.deployment.DeploymentState.VALIDATING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class DeploymentStateTest {

  @Test
  void theHappyPathIsAllowedStepByStep() {
    List<DeploymentState> path = List.of(PENDING, STARTING, LOADING, VALIDATING, READY, STOPPED);
    for (int i = 0; i + 1 < path.size(); i++) {
      assertTrue(path.get(i).canMoveTo(path.get(i + 1)), path.get(i) + " -> " + path.get(i + 1));
    }
  }

  @Test
  void everyLiveStateCanFailOrStop() {
    for (DeploymentState state : List.of(PENDING, STARTING, LOADING, VALIDATING, READY)) {
      assertTrue(state.canMoveTo(FAILED), state + " -> FAILED");
      assertTrue(state.canMoveTo(STOPPED), state + " -> STOPPED");
    }
    assertTrue(FAILED.canMoveTo(STOPPED));
  }

  @Test
  void aDeploymentLeavesReadyWhileRestartingAndComesBack() {
    assertTrue(READY.canMoveTo(STARTING), "no replica ready: restarting");
    assertTrue(STARTING.canMoveTo(READY), "a restarted replica passed validation");
    assertEquals(java.time.Duration.ofMillis(500), ReplicaSupervisor.backoff(0));
    assertEquals(java.time.Duration.ofSeconds(1), ReplicaSupervisor.backoff(1));
    assertEquals(java.time.Duration.ofSeconds(8), ReplicaSupervisor.backoff(4));
    assertEquals(java.time.Duration.ofSeconds(10), ReplicaSupervisor.backoff(5), "capped");
    assertEquals(java.time.Duration.ofSeconds(10), ReplicaSupervisor.backoff(60), "no overflow");
  }

  @Test
  void skippingStepsGoingBackAndLeavingTerminalStatesAreRefused() {
    assertFalse(PENDING.canMoveTo(READY));
    assertFalse(STARTING.canMoveTo(VALIDATING));
    assertFalse(LOADING.canMoveTo(READY));
    assertFalse(READY.canMoveTo(LOADING));
    assertFalse(READY.canMoveTo(READY));
    assertFalse(FAILED.canMoveTo(READY));
    assertFalse(FAILED.canMoveTo(STARTING));
    for (DeploymentState any : DeploymentState.values()) {
      assertFalse(STOPPED.canMoveTo(any), "STOPPED -> " + any);
    }
  }

  @Test
  void aDeploymentEnforcesTheTableAndSettlesAfterRelease() {
    Deployment deployment = new Deployment(1, new DeploySpec("m", 1, Path.of("/tmp")));
    assertEquals(PENDING, deployment.state());
    assertThrows(IllegalStateException.class, () -> deployment.advance(READY));
    deployment.advance(STARTING);
    deployment.advance(LOADING);
    assertFalse(deployment.settled().isDone());

    assertTrue(deployment.fail("runtime process exited with code 1", List.of("boom")));
    assertEquals(FAILED, deployment.state());
    assertFalse(deployment.settled().isDone(), "settles once its runtime is released");
    deployment.release(false);
    assertTrue(deployment.settled().isDone());
    assertEquals("runtime process exited with code 1", deployment.settled().join().reason());
    assertEquals(List.of("boom"), deployment.view().lastLogLines());

    assertFalse(deployment.fail("a second failure", List.of()), "already failed");
    assertThrows(IllegalStateException.class, () -> deployment.advance(VALIDATING));
    assertTrue(deployment.markStopped());
    assertEquals(STOPPED, deployment.state());
    assertEquals("runtime process exited with code 1", deployment.reason(), "reason kept");
    assertFalse(deployment.markStopped());
  }

  @Test
  void aStoppedDeploymentTakesNoCallSoTheCallerRoutesAgain() {
    Deployment deployment = new Deployment(1, new DeploySpec("m", 1, Path.of("/tmp")));
    Payload payload = new Payload(PayloadKind.DATAFRAME, ByteString.copyFromUtf8("x"));
    CompletableFuture<Payload> early =
        deployment.predict(payload, Duration.ofSeconds(1)).orElseThrow();
    CompletionException refused = assertThrows(CompletionException.class, early::join);
    GatewayException why = assertInstanceOf(GatewayException.class, refused.getCause());
    assertEquals(ErrorKind.UNAVAILABLE, why.kind());
    assertEquals("model 'm' is not ready: PENDING", why.getMessage());

    assertTrue(deployment.markStopped());
    assertTrue(deployment.predict(payload, Duration.ofSeconds(1)).isEmpty(),
        "replaced or undeployed since routed: refused before anything is sent");
  }
}
