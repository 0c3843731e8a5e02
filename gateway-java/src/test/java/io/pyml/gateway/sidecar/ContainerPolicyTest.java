package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The jar carries pyml_launcher's container_policy.json, and the launcher applies it. */
class ContainerPolicyTest {
  /** The one file, in the Python package (tests run in gateway-java/). */
  private static final Path SOURCE = Path.of("..", "launcher", "pyml_launcher",
      ContainerPolicy.RESOURCE);

  @Test
  void theJarCarriesTheOneFileUnchanged() throws IOException {
    assertEquals(ContainerPolicy.parse(new ObjectMapper().readTree(SOURCE.toFile())),
        ContainerPolicy.load());
  }

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
  void theDefaultLimitsAreThePolicys() {
    ContainerPolicy policy = ContainerPolicy.load();
    assertEquals(1024L * 1024 * 1024, policy.runtimeDefaultMemoryBytes());
    assertEquals(256, policy.runtimeDefaultPids());
    assertEquals(policy.runtimeDefaultMemoryBytes(), ResourceLimits.DEFAULTS.memoryBytes());
    assertEquals(policy.runtimeDefaultPids(), ResourceLimits.DEFAULTS.pids());
  }

  @Test
  void theHostConfigFollowsIt() {
    ContainerPolicy policy = ContainerPolicy.load();
    var host = DockerSidecarLauncher.hostConfig(policy, "/w/d1r0a0",
        new ResourceLimits(512L << 20, 0.5, 64));
    assertEquals(policy.networkMode(), host.getNetworkMode());
    assertEquals(policy.readOnlyRootfs(), host.getReadonlyRootfs());
    assertEquals(policy.securityOpt(), host.getSecurityOpts());
    assertEquals(policy.logType(), host.getLogConfig().getType().getType());
    assertEquals(policy.logConfig(), host.getLogConfig().getConfig());
    assertEquals(policy.runtimeTmpfs(), host.getTmpFs());
    assertEquals(Map.of("/tmp", "rw,nosuid,nodev,size=64m"), host.getTmpFs());
    assertEquals(64L, host.getPidsLimit());
    assertEquals(512L << 20, host.getMemory());
    assertEquals(512L << 20, host.getMemorySwap());
  }
}
