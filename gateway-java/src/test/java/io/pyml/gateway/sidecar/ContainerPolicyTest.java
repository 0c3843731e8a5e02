package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The jar carries pyml_launcher's container_policy.json, and the launcher applies it. */
class ContainerPolicyTest {
  @Test
  void theSharedPolicyIsInTheJar() {
    ContainerPolicy policy = ContainerPolicy.load();
    assertEquals("none", policy.networkMode());
    assertEquals(true, policy.readOnlyRootfs());
    assertEquals(List.of("ALL"), policy.capDrop());
    assertEquals(List.of("no-new-privileges"), policy.securityOpt());
    assertEquals("json-file", policy.logType());
    assertEquals(Map.of("max-size", "1m", "max-file", "3"), policy.logConfig());
    assertEquals("65534:65534", policy.runtimeUser());
    assertEquals("/run/pyml", policy.socketDir());
  }

  @Test
  void theHostConfigFollowsIt() {
    var host = DockerSidecarLauncher.hostConfig(ContainerPolicy.load(), "/w/d1r0a0",
        new ResourceLimits(512L << 20, 0.5, 64));
    assertEquals("none", host.getNetworkMode());
    assertEquals(true, host.getReadonlyRootfs());
    assertEquals("json-file", host.getLogConfig().getType().getType());
    assertEquals(Map.of("max-size", "1m", "max-file", "3"), host.getLogConfig().getConfig());
    assertEquals(Map.of("/tmp", "rw,nosuid,nodev,size=64m"), host.getTmpFs());
    assertEquals(64L, host.getPidsLimit());
  }
}
