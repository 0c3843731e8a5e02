package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeRuntime;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Deadlines: the gateway's default when the client sets none, else the shorter of the two. */
class GatewayDeadlineTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher();
  static final Duration GRACE = Duration.ofMillis(300);
  static TestGateway running;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-gdt-",
        config -> config.withDefaultDeadline(Duration.ofMillis(1500))
            .withAdmission(new AdmissionLimits(4, 8, 32, 1 << 20, GRACE)), LAUNCHER);
    client = running.client();
    client.deploy("slow", 1, running.home());
    client.deploy("slow2", 1, running.home());
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @Test
  void withoutAClientDeadlineTheDefaultApplies() {
    long start = System.nanoTime();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> client.predictions.predict(request("slow", FakeModel.HANG)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    assertEquals("model 'slow' did not answer within 1500 ms", error.getStatus().getDescription());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 5_000);
    assertEquals("kcab", client.predict(request("slow", "back")).getPayload()
        .getArrowIpc().toStringUtf8(), "the model still answers");
  }

  @Test
  void aShorterClientDeadlineReachesTheRuntime() throws InterruptedException {
    FakeRuntime runtime = LAUNCHER.latest("slow2", 1).runtime();
    long start = System.nanoTime();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> client.predictions.withDeadlineAfter(200, TimeUnit.MILLISECONDS)
            .predict(request("slow2", FakeModel.HANG)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    // The client is answered at its 200 ms; the runtime's call ends 300 ms (the hung-call
    // grace) later, well before the 1500 ms default.
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 450);
    long left = 1200 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(runtime.hangCancelled.await(Math.max(left, 0), TimeUnit.MILLISECONDS));
  }
}
