package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeSpec;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.state.DeploymentStore;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failed starts that are not the model's fault are retried within the window, not 5 times. */
class DeploymentRetryTest {
  @TempDir
  Path work;

  /** Docker is "away" for the first {@code failures} launches. */
  static SidecarLauncher away(int failures, AtomicInteger tries) {
    FakeLauncher fake = new FakeLauncher();
    return new SidecarLauncher() {
      @Override
      public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
        if (tries.incrementAndGet() <= failures) {
          throw new IOException("cannot reach Docker: connection refused");
        }
        return fake.launch(spec, socketDir);
      }
    };
  }

  DeployedView deploy(SidecarLauncher launcher, Duration window) throws Exception {
    Path home = Files.createDirectories(work.resolve("home"));
    try (SidecarTransport transport = new SidecarTransport(1 << 20);
        DeploymentManager manager = new DeploymentManager(launcher, transport,
            Files.createDirectories(work.resolve("w")), Duration.ofSeconds(20),
            AdmissionLimits.DEFAULTS, DeploymentStore.none(),
            new RetryPolicy(window, Duration.ofMillis(20), Duration.ofMillis(200)))) {
      long start = System.nanoTime();
      DeploymentView view = manager.deploy(new DeploySpec("m", 1, home))
          .settled().get(60, TimeUnit.SECONDS);
      return new DeployedView(view, Duration.ofNanos(System.nanoTime() - start));
    }
  }

  record DeployedView(DeploymentView view, Duration took) {}

  @Test
  void moreThanFiveFailedFirstStartsWithinTheWindowStillEndReady() throws Exception {
    AtomicInteger tries = new AtomicInteger();
    DeployedView result = deploy(away(6, tries), Duration.ofSeconds(30));
    assertEquals(DeploymentState.READY, result.view().state(), result.view().reason());
    assertEquals(7, tries.get());
    assertEquals(6, result.view().restarts());
  }

  @Test
  void pastTheWindowTheDeploymentFailsWithTheLastReason() throws Exception {
    AtomicInteger tries = new AtomicInteger();
    DeployedView result = deploy(away(1000, tries), Duration.ofSeconds(2));
    assertEquals(DeploymentState.FAILED, result.view().state());
    assertTrue(result.view().reason().contains("gave up after")
        && result.view().reason().contains("cannot reach Docker"), result.view().reason());
    assertTrue(result.took().compareTo(Duration.ofSeconds(5)) < 0, "bounded by the window");
    assertTrue(tries.get() >= 3, "retried meanwhile: " + tries.get());
  }

  @Test
  void aModelThatFailsToLoadStillFailsAtOnce() throws Exception {
    FakeLauncher launcher = new FakeLauncher().model("m", FakeModel.dataframe().exitingOnLoad());
    DeployedView result = deploy(launcher, Duration.ofSeconds(30));
    assertEquals(DeploymentState.FAILED, result.view().state());
    assertEquals(1, launcher.launched().size(), "a bad model does not loop");
  }
}
