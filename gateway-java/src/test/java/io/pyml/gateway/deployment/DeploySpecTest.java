package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Deploy requests meet the gateway's rules before anything is looked up or started. */
class DeploySpecTest {
  private static final DeployRules RULES = new DeployRules(
      new ModelRegistry(Path.of("/no/such/registry")), HomeDeployPolicy.off(Path.of("/tmp/w")),
      new ResourceLimits(4L << 30, 2.0, 1024));

  private static GatewayException refused(ResourceLimits overrides) {
    return assertThrows(GatewayException.class,
        () -> DeploySpec.of("m", 1, "", 1, overrides, RULES));
  }

  @Test
  void overridesAboveTheMaximaAreInvalidAndNameFieldValueAndMaximum() {
    GatewayException memory = refused(new ResourceLimits(16L << 30, 2.0, 1_000_000));
    assertEquals(ErrorKind.INVALID_INPUT, memory.kind());
    assertEquals("model 'm': resources.memory_bytes 17179869184 is above this gateway's maximum "
        + "of 4294967296 (--max-container-memory-bytes)", memory.getMessage());
    assertEquals("model 'm': resources.cpus 3.0 is above this gateway's maximum of 2.0 "
        + "(--max-container-cpus)", refused(new ResourceLimits(0, 3.0, 0)).getMessage());
    assertEquals("model 'm': resources.pids 1000000 is above this gateway's maximum of 1024 "
        + "(--max-container-pids)", refused(new ResourceLimits(0, 0, 1_000_000)).getMessage());
  }

  @Test
  void overridesWithinTheMaximaReachTheRegistry() {
    // The registry does not exist: its NOT_FOUND shows the limits were accepted.
    assertEquals(ErrorKind.NOT_FOUND, refused(new ResourceLimits(4L << 30, 2.0, 1024)).kind());
  }

  @Test
  void homeDeploysFollowThePolicy() {
    GatewayException error = assertThrows(GatewayException.class,
        () -> DeploySpec.of("m", 1, "/etc", 1, ResourceLimits.NONE, RULES));
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    assertEquals(HomeDeployPolicy.OFF, error.getMessage());
  }
}
