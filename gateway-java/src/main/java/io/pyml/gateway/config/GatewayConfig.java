package io.pyml.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The gateway's typed settings. Built by {@link GatewayConfigParser} from flags, then
 * {@code PYML_GATEWAY_*} environment variables, then defaults.
 *
 * @param runtimeCommand the runtime executable and its leading arguments; the gateway appends
 *     {@code serve --home H --socket S --name N}
 * @param workDir where per-deployment socket folders and runtime logs go; empty: a fresh
 *     short temporary folder (Unix socket paths are limited to about 107 bytes)
 * @param thriftPort the Thrift front end's port; 0: any free port
 * @param oipPort the Open Inference Protocol (gRPC) front end's port; 0: any free port
 */
public record GatewayConfig(
    String host,
    int grpcPort,
    List<String> runtimeCommand,
    Optional<Path> workDir,
    int maxPayloadBytes,
    Duration defaultDeadline,
    Duration deployTimeout,
    int thriftPort,
    int oipPort) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_GRPC_PORT = 7070;
  public static final int DEFAULT_THRIFT_PORT = 7071;
  public static final int DEFAULT_OIP_PORT = 8001;
  public static final String DEFAULT_RUNTIME_COMMAND = "pyml-runtime";
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
  public static final Duration DEFAULT_DEADLINE = Duration.ofMillis(30_000);
  public static final Duration DEFAULT_DEPLOY_TIMEOUT = Duration.ofMillis(120_000);

  public GatewayConfig {
    Objects.requireNonNull(host, "host");
    runtimeCommand = List.copyOf(runtimeCommand);
    Objects.requireNonNull(workDir, "workDir");
    Objects.requireNonNull(defaultDeadline, "defaultDeadline");
    Objects.requireNonNull(deployTimeout, "deployTimeout");
    if (runtimeCommand.isEmpty()) {
      throw new IllegalArgumentException("runtime command is empty");
    }
  }

  /** The defaults, as a base for tests and embedders that change a few settings. */
  public static GatewayConfig defaults() {
    return new GatewayConfig(
        DEFAULT_HOST,
        DEFAULT_GRPC_PORT,
        List.of(DEFAULT_RUNTIME_COMMAND),
        Optional.empty(),
        DEFAULT_MAX_PAYLOAD_BYTES,
        DEFAULT_DEADLINE,
        DEFAULT_DEPLOY_TIMEOUT,
        DEFAULT_THRIFT_PORT,
        DEFAULT_OIP_PORT);
  }

  public GatewayConfig withGrpcPort(int port) {
    return new GatewayConfig(host, port, runtimeCommand, workDir, maxPayloadBytes,
        defaultDeadline, deployTimeout, thriftPort, oipPort);
  }

  public GatewayConfig withWorkDir(Path dir) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, Optional.of(dir), maxPayloadBytes,
        defaultDeadline, deployTimeout, thriftPort, oipPort);
  }

  public GatewayConfig withMaxPayloadBytes(int bytes) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, workDir, bytes, defaultDeadline,
        deployTimeout, thriftPort, oipPort);
  }

  public GatewayConfig withDefaultDeadline(Duration deadline) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, workDir, maxPayloadBytes, deadline,
        deployTimeout, thriftPort, oipPort);
  }

  public GatewayConfig withDeployTimeout(Duration timeout) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, workDir, maxPayloadBytes,
        defaultDeadline, timeout, thriftPort, oipPort);
  }

  public GatewayConfig withThriftPort(int port) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, workDir, maxPayloadBytes,
        defaultDeadline, deployTimeout, port, oipPort);
  }

  public GatewayConfig withOipPort(int port) {
    return new GatewayConfig(host, grpcPort, runtimeCommand, workDir, maxPayloadBytes,
        defaultDeadline, deployTimeout, thriftPort, port);
  }
}
