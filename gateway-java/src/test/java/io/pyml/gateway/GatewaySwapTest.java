package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.PredictResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Replacing a live model: the new version takes over once READY and the old one drains. */
class GatewaySwapTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher();
  static final int CLIENTS = 4;
  static final int SWAPS = 10;
  /** Each client thread's bounds: whichever comes first ends it. */
  static final int MAX_CALLS = 20_000;
  static final Duration MAX_TIME = Duration.ofSeconds(60);

  static TestGateway running;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-gst-",
        config -> config.withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    client = running.client();
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  private static void deployReady(String name, long version) {
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY,
        client.deploy(name, version, running.home()).getState());
  }

  @Test
  void callsDuringRepeatedSwapsAllSucceedAndNeverGoBackAVersion() throws Exception {
    deployReady("busy", 1);
    AtomicBoolean done = new AtomicBoolean();
    List<String> failures = new CopyOnWriteArrayList<>();
    List<List<Long>> seen = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    for (int c = 0; c < CLIENTS; c++) {
      List<Long> versions = new CopyOnWriteArrayList<>();
      seen.add(versions);
      pool.execute(() -> {
        long until = System.nanoTime() + MAX_TIME.toNanos();
        for (int i = 0; i < MAX_CALLS && !done.get() && System.nanoTime() < until; i++) {
          try {
            versions.add(client.predict(request("busy", "x")).getModelVersion());
          } catch (StatusRuntimeException e) {
            failures.add(e.getStatus().toString());
          }
        }
      });
    }
    try {
      for (long version = 2; version <= SWAPS + 1; version++) {
        deployReady("busy", version);
      }
    } finally {
      done.set(true);
      pool.shutdown();
    }
    assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));

    assertEquals(List.of(), failures, "no call fails while versions are swapped");
    for (List<Long> versions : seen) {
      assertEquals(versions.stream().sorted().toList(), versions, "never back to an old one");
    }
    assertEquals(SWAPS + 1, client.predict(request("busy", "x")).getModelVersion());
  }

  @Test
  void aCallTakenByTheOldVersionFinishesBeforeItsRuntimeStops() throws Exception {
    deployReady("drain", 1);
    FakeSidecar old = LAUNCHER.latest("drain", 1);
    CompletableFuture<PredictResponse> held =
        CompletableFuture.supplyAsync(() -> client.predict(request("drain", FakeModel.HOLD)));
    assertTrue(old.runtime().holdStarted.await(10, TimeUnit.SECONDS));

    deployReady("drain", 2);
    assertEquals(2, client.predict(request("drain", "x")).getModelVersion(), "new calls: v2");
    // Longer than a fixed grace period would allow (the drain used to cut calls after 5 s):
    // the call's own deadline (30 s here) is the drain's only limit.
    long holding = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
    while (System.nanoTime() < holding) {
      assertFalse(held.isDone());
      assertFalse(old.stopped(), "the old runtime still serves the call it took");
      Thread.sleep(100);
    }

    old.runtime().release.complete(null);
    PredictResponse answer = held.get(10, TimeUnit.SECONDS);
    assertEquals(1, answer.getModelVersion());
    assertEquals("dloh", answer.getPayload().getArrowIpc().toStringUtf8());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!old.stopped() && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertTrue(old.stopped(), "drained, then stopped");
  }
}
