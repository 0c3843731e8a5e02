package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContainerNamesTest {
  private static RuntimeSpec spec(String name) {
    return new RuntimeSpec(name, 2, Optional.empty(), Optional.of("pyml/m:2"),
        ResourceLimits.NONE, "");
  }

  @Test
  void aContainerIsNamedByModelVersionReplicaStartAndGateway() {
    assertEquals("pyml-breast_cancer_lr-v2-d3r0a1-default", ContainerNames.of("default",
        spec("breast_cancer_lr"), Path.of("/run/pyml/work/d3r0a1")));
  }

  @Test
  void whatDockerDoesNotAllowInANameBecomesAnUnderscoreAndAHeldNameGetsASuffix() {
    String name = ContainerNames.of("team/a b", spec("m"), Path.of("/w/d1r0a0"));
    assertEquals("pyml-m-v2-d1r0a0-team_a_b", name);
    assertTrue(ContainerNames.unique(name).matches("pyml-m-v2-d1r0a0-team_a_b-[0-9a-f]{6}"));
  }
}
