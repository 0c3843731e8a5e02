package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.PredictResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Admission (two calls per runtime, one waiting call per model here) and hung calls (a grace
 * of 300 ms past the deadline before a runtime that answers nothing is replaced).
 */
class GatewayAdmissionTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher();
  static final AdmissionLimits LIMITS =
      new AdmissionLimits(2, 8, 1, 1024 * 1024, Duration.ofMillis(300));
  static TestGateway running;
  static Path home;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-gat-",
        config -> config.withAdmission(LIMITS), LAUNCHER);
    client = running.client();
    home = running.home();
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  private static String answer(String model, String text) {
    return client.predict(request(model, text)).getPayload().getArrowIpc().toStringUtf8();
  }

  /** Waits until the runtime got {@code calls} predictions besides its validation call. */
  private static void awaitReceived(FakeSidecar sidecar, int calls) throws InterruptedException {
    calls += 1;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sidecar.runtime().received.size() < calls && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(calls, sidecar.runtime().received.size());
  }

  @Test
  void aBusyRuntimeQueuesACallAndRefusesTheNextAtOnce() throws Exception {
    client.deploy("busy", 1, home);
    FakeSidecar sidecar = LAUNCHER.latest("busy", 1);
    CompletableFuture<PredictResponse> held =
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", FakeModel.HOLD)));
    CompletableFuture<PredictResponse> held2 =
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", FakeModel.HOLD)));
    awaitReceived(sidecar, 2);
    CompletableFuture<PredictResponse> queued =
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", "queued")));
    Thread.sleep(200); // it waits in the queue: the runtime has room for two calls only
    assertFalse(queued.isDone());
    assertEquals(3, sidecar.runtime().received.size(), "the queued call is not sent yet");

    long start = System.nanoTime();
    StatusRuntimeException refused = client.predictFails(request("busy", "third"));
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2_000, "at once");
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    String message = refused.getStatus().getDescription();
    assertTrue(message.contains("model 'busy'") && message.contains("at most 1 calls"), message);

    sidecar.runtime().release.complete(null);
    assertEquals("dloh", held.get(10, TimeUnit.SECONDS).getPayload().getArrowIpc().toStringUtf8());
    held2.get(10, TimeUnit.SECONDS);
    assertEquals("deueuq",
        queued.get(10, TimeUnit.SECONDS).getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void aQueuedCallEndsAtItsDeadline() throws Exception {
    client.deploy("deadline", 1, home);
    FakeSidecar sidecar = LAUNCHER.latest("deadline", 1);
    CompletableFuture<PredictResponse> held =
        CompletableFuture.supplyAsync(() -> client.predict(request("deadline", FakeModel.HOLD)));
    CompletableFuture<PredictResponse> held2 =
        CompletableFuture.supplyAsync(() -> client.predict(request("deadline", FakeModel.HOLD)));
    awaitReceived(sidecar, 2);
    StatusRuntimeException late = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> client.predictions
            .withDeadlineAfter(300, TimeUnit.MILLISECONDS).predict(request("deadline", "late")));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
    sidecar.runtime().release.complete(null);
    held.get(10, TimeUnit.SECONDS);
    held2.get(10, TimeUnit.SECONDS);
    assertEquals("txen", answer("deadline", "next"), "the queue is empty again");
  }

  @Test
  void aRuntimeStuckInModelCodeIsReplaced() throws Exception {
    client.deploy("stuck", 1, home);
    FakeSidecar first = LAUNCHER.latest("stuck", 1);
    long start = System.nanoTime();
    StatusRuntimeException error = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> client.predictions
            .withDeadlineAfter(200, TimeUnit.MILLISECONDS).predict(request("stuck",
                FakeModel.HANG)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2_000);

    // Nothing answered after the hung call: past 200 + 300 ms the runtime is stuck.
    var replaced = client.await("stuck", d -> d.getRestarts() == 1
        && d.getReadyReplicas() == 1, Duration.ofSeconds(15));
    assertTrue(replaced.getReason().contains("stuck in model code"), replaced.getReason());
    assertTrue(first.stopped(), "the stuck runtime is stopped");
    assertEquals("kcab", answer("stuck", "back"));
  }

  @Test
  void aLateCallWhileTheRuntimeAnswersOthersIsNotStuck() throws Exception {
    client.deploy("lively", 1, home);
    FakeSidecar first = LAUNCHER.latest("lively", 1);
    org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> client.predictions.withDeadlineAfter(200, TimeUnit.MILLISECONDS)
            .predict(request("lively", FakeModel.HANG)));
    // The runtime answers another call before the hung one's grace ends: it makes progress.
    assertEquals("kcab", answer("lively", "back"));
    Thread.sleep(1_000);
    assertEquals(0, client.get("lively").getRestarts());
    assertFalse(first.stopped());
  }

  @Test
  void aStuckReplicaIsReplacedWhileItsPartnerKeepsTheModelReady() throws Exception {
    client.deploy("pair", 1, home, 2);
    org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> client.predictions.withDeadlineAfter(200, TimeUnit.MILLISECONDS)
            .predict(request("pair", FakeModel.HANG)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    var now = client.get("pair");
    while (now.getRestarts() < 1 && System.nanoTime() < deadline) {
      assertEquals(io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_READY, now.getState(),
          "one replica is left: the model stays READY");
      assertEquals("kcab", answer("pair", "back"));
      Thread.sleep(20);
      now = client.get("pair");
    }
    assertEquals(1, now.getRestarts());
    client.awaitReplicas("pair", 2, Duration.ofSeconds(15));
  }

  @Test
  void aCallCutByACrashNamesThisCrashNotAnEarlierOne() throws Exception {
    client.deploy("twice", 1, home);
    LAUNCHER.latest("twice", 1).die(137); // the first death: the reason the model keeps
    client.await("twice", d -> d.getRestarts() == 1 && d.getReadyReplicas() == 1,
        Duration.ofSeconds(20));
    FakeSidecar second = LAUNCHER.latest("twice", 1);
    CompletableFuture<PredictResponse> inFlight =
        CompletableFuture.supplyAsync(() -> client.predict(request("twice", FakeModel.HANG)));
    assertTrue(second.runtime().hangStarted.await(10, TimeUnit.SECONDS));
    second.die(3);
    java.util.concurrent.ExecutionException error = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
    Status status = ((StatusRuntimeException) error.getCause()).getStatus();
    assertEquals(Status.Code.UNAVAILABLE, status.getCode());
    assertTrue(status.getDescription().contains("exited with code 3")
        && !status.getDescription().contains("137"), status.getDescription());
  }
}
