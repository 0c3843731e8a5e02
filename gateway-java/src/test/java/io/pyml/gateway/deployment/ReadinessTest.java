package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.deployment.Readiness.ModelReadiness;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReadinessTest {
  static final ModelReadiness READY = new ModelReadiness("a", 1,
      Optional.of(DeploymentState.READY));
  static final ModelReadiness LOADING = new ModelReadiness("b", 2,
      Optional.of(DeploymentState.LOADING));

  @Test
  void readyWhenEveryModelIsReadyIncludingNone() {
    assertTrue(new Readiness(false, List.of()).ready(), "nothing desired, nothing missing");
    assertTrue(new Readiness(false, List.of(READY)).ready());
    Readiness loading = new Readiness(false, List.of(READY, LOADING));
    assertFalse(loading.ready());
    assertEquals(List.of(LOADING), loading.notReady());
  }

  @Test
  void aSubsetByNameCountsOnlyThoseAndANameNotDeployedIsNotReady() {
    Readiness all = new Readiness(false, List.of(READY, LOADING));
    assertTrue(all.of(List.of("a", "a")).ready());
    assertEquals(1, all.of(List.of("a", "a")).models().size(), "each name once");
    Readiness missing = all.of(List.of("a", "zz"));
    assertFalse(missing.ready());
    assertEquals(List.of(new ModelReadiness("zz", 0, Optional.empty())), missing.notReady());
  }

  @Test
  void stoppingIsNeverReady() {
    assertFalse(new Readiness(false, List.of(READY)).whileStopping().ready());
    assertFalse(new Readiness(true, List.of()).ready());
  }

  @Test
  void failedAndRestartingAreNotReady() {
    for (DeploymentState state : List.of(DeploymentState.FAILED, DeploymentState.STARTING,
        DeploymentState.STOPPED, DeploymentState.PENDING, DeploymentState.VALIDATING)) {
      assertFalse(new ModelReadiness("m", 1, Optional.of(state)).ready(), state.name());
    }
  }
}
