package io.pyml.gateway.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How model containers are hardened: {@code container_policy.json}, the one file that
 * pyml_launcher (local runs, the offline job) reads too; the build copies it into the jar
 * next to this class. Limits (memory, CPUs, pids) are per deployment; the runtime's defaults
 * for memory and pids are the file's ({@link ResourceLimits#DEFAULTS}). The file's "offline"
 * section is the offline job's alone: the gateway does not read it.
 */
public record ContainerPolicy(
    String networkMode, boolean readOnlyRootfs, List<String> capDrop, List<String> securityOpt,
    String logType, Map<String, String> logConfig, String runtimeUser,
    Map<String, String> runtimeTmpfs, String socketDir, long runtimeDefaultMemoryBytes,
    int runtimeDefaultPids) {
  static final String RESOURCE = "container_policy.json";

  public ContainerPolicy {
    capDrop = List.copyOf(capDrop);
    securityOpt = List.copyOf(securityOpt);
    logConfig = Map.copyOf(logConfig);
    runtimeTmpfs = Map.copyOf(runtimeTmpfs);
  }

  /** The policy shipped in the jar; a jar without it is broken, not a container unhardened. */
  public static ContainerPolicy load() {
    try (InputStream in = ContainerPolicy.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the gateway's jar");
      }
      return parse(new ObjectMapper().readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  static ContainerPolicy parse(JsonNode json) {
    JsonNode runtime = required(json, "runtime");
    JsonNode log = required(json, "log_config");
    return new ContainerPolicy(
        required(json, "network_mode").asText(),
        required(json, "read_only_rootfs").asBoolean(),
        strings(required(json, "cap_drop")),
        strings(required(json, "security_opt")),
        required(log, "type").asText(),
        map(required(log, "config")),
        required(runtime, "user").asText(),
        map(required(runtime, "tmpfs")),
        required(runtime, "socket_dir").asText(),
        required(runtime, "default_memory_bytes").asLong(),
        required(runtime, "default_pids_limit").asInt());
  }

  private static JsonNode required(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalStateException(RESOURCE + " has no '" + field + "'");
    }
    return value;
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(item -> values.add(item.asText()));
    return values;
  }

  private static Map<String, String> map(JsonNode object) {
    Map<String, String> values = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().asText()));
    return values;
  }
}
