package io.pyml.gateway.config;

import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The gateway's typed settings. Built by {@link GatewayConfigParser} from flags, then
 * {@code PYML_GATEWAY_*} environment variables, then defaults.
 *
 * @param httpPort the HTTP port of {@code /metrics} and KServe V2 REST ({@code /v2}); 0 for any
 *     free port
 * @param runtimeCommand the runtime executable and its leading arguments; the gateway appends
 *     {@code serve --home H --socket S --name N}
 * @param workDir where per-deployment socket folders and runtime logs go; empty:
 *     {@code /tmp/pyml-gw-<gateway id>}, the same for every run of the gateway id (a restarted
 *     gateway finds its containers' sockets there) and short (Unix socket paths are limited to
 *     about 107 bytes)
 * @param containers registry, Docker engine, gateway id and default limits for containers
 * @param thriftPort the Thrift front end's port; 0: any free port
 * @param oipPort the Open Inference Protocol (gRPC) front end's port; 0: any free port
 * @param homeDeployRoots development only: the folders under which an Admin Deploy of a home
 *     folder may run that folder's code as a local process; empty (the default): refused
 * @param admission calls and bytes in flight per runtime, the admission queue, the grace of
 *     a call past its deadline before its runtime counts as stuck
 * @param state the desired deployments' folder and the Docker retry window
 * @param containerMaxima the most a deploy request may set as a container's limits; the
 *     defaults in {@code containers} must be within them
 * @param transport connection, stream and timeout limits of every port
 * @param insecureNoAuth development only: serve a {@code host} other than loopback although
 *     no identities are configured (anyone who reaches a port is a full admin); false (the
 *     default): such a host is refused at start
 * @param identities where identities, grants and the audit log are kept: an SQLite file in
 *     the state folder by default, PostgreSQL when a URL is given
 * @param gatewayAdmins identities that are gateway admins whatever the identity store says
 *     (how an identity provider's users get a first admin); empty by default
 * @param jwt signed JWTs from an identity provider, verified against its key set; empty (the
 *     default): JWTs identify nobody
 * @param accessLog where the access log goes (off by default), its form and sampling rate
 * @param stop on SIGTERM/SIGINT: the grace of the calls in flight, then stop or leave the model
 *     containers
 */
public record GatewayConfig(
    String host,
    int grpcPort,
    int httpPort,
    List<String> runtimeCommand,
    Optional<Path> workDir,
    int maxPayloadBytes,
    Duration defaultDeadline,
    Duration deployTimeout,
    ContainerSettings containers,
    int thriftPort,
    int oipPort,
    List<Path> homeDeployRoots,
    AdmissionLimits admission,
    StateSettings state,
    ResourceLimits containerMaxima,
    TransportLimits transport,
    boolean insecureNoAuth,
    IdentitySettings identities,
    Set<String> gatewayAdmins,
    Optional<JwtSettings> jwt,
    AccessLogSettings accessLog,
    StopSettings stop) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_GRPC_PORT = 7070;
  public static final int DEFAULT_HTTP_PORT = 7080;
  public static final int DEFAULT_THRIFT_PORT = 7071;
  public static final int DEFAULT_OIP_PORT = 8001;
  public static final String DEFAULT_RUNTIME_COMMAND = "pyml-runtime";
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
  public static final Duration DEFAULT_DEADLINE = Duration.ofMillis(30_000);
  public static final Duration DEFAULT_DEPLOY_TIMEOUT = Duration.ofMillis(120_000);

  public GatewayConfig {
    Objects.requireNonNull(host, "host");
    runtimeCommand = List.copyOf(runtimeCommand);
    homeDeployRoots = List.copyOf(homeDeployRoots);
    Objects.requireNonNull(workDir, "workDir");
    Objects.requireNonNull(defaultDeadline, "defaultDeadline");
    Objects.requireNonNull(deployTimeout, "deployTimeout");
    Objects.requireNonNull(containers, "containers");
    Objects.requireNonNull(admission, "admission");
    // Budgets follow the memory a runtime gets when its deploy sets none: the containers'
    // default, from one place, whichever setting changed last.
    admission = admission.forDefaultMemory(containers.limits().memoryBytes());
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(identities, "identities");
    Objects.requireNonNull(jwt, "jwt");
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(stop, "stop");
    gatewayAdmins = Set.copyOf(gatewayAdmins);
    if (runtimeCommand.isEmpty()) {
      throw new IllegalArgumentException("runtime command is empty");
    }
    Objects.requireNonNull(containerMaxima, "containerMaxima");
    containers.limits().aboveMaximum(containerMaxima).ifPresent(problem -> {
      throw new IllegalArgumentException("the default container limit " + problem);
    });
  }

  /** The defaults, as a base for tests and embedders that change a few settings. */
  public static GatewayConfig defaults() {
    return new GatewayConfig(
        DEFAULT_HOST,
        DEFAULT_GRPC_PORT,
        DEFAULT_HTTP_PORT,
        List.of(DEFAULT_RUNTIME_COMMAND),
        Optional.empty(),
        DEFAULT_MAX_PAYLOAD_BYTES,
        DEFAULT_DEADLINE,
        DEFAULT_DEPLOY_TIMEOUT,
        new ContainerSettings(ModelRegistry.defaultDir(System.getenv()),
            ContainerSettings.DEFAULT_DOCKER_HOST, ContainerSettings.DEFAULT_GATEWAY_ID,
            ResourceLimits.DEFAULTS, Optional.empty()),
        DEFAULT_THRIFT_PORT,
        DEFAULT_OIP_PORT,
        List.of(),
        AdmissionLimits.DEFAULTS,
        StateSettings.defaults(System.getenv(), ContainerSettings.DEFAULT_GATEWAY_ID),
        ResourceLimits.DEFAULT_MAXIMA,
        TransportLimits.DEFAULTS,
        false,
        IdentitySettings.DEFAULTS, Set.of(), Optional.empty(), AccessLogSettings.DEFAULTS,
        StopSettings.DEFAULTS);
  }

  public GatewayConfig withHost(String address) {
    return copy(c -> c.host = address);
  }

  public GatewayConfig withInsecureNoAuth(boolean insecure) {
    return copy(c -> c.insecureNoAuth = insecure);
  }

  public GatewayConfig withJwt(Optional<JwtSettings> settings) {
    return copy(c -> c.jwt = settings);
  }

  public GatewayConfig withGatewayAdmins(Set<String> identities) {
    return copy(c -> c.gatewayAdmins = identities);
  }

  public GatewayConfig withGrpcPort(int port) {
    return copy(c -> c.grpcPort = port);
  }

  public GatewayConfig withHttpPort(int port) {
    return copy(c -> c.httpPort = port);
  }

  public GatewayConfig withWorkDir(Path dir) {
    return copy(c -> c.workDir = Optional.of(dir));
  }

  public GatewayConfig withMaxPayloadBytes(int bytes) {
    return copy(c -> c.maxPayloadBytes = bytes);
  }

  public GatewayConfig withDefaultDeadline(Duration deadline) {
    return copy(c -> c.defaultDeadline = deadline);
  }

  public GatewayConfig withDeployTimeout(Duration timeout) {
    return copy(c -> c.deployTimeout = timeout);
  }

  public GatewayConfig withContainers(ContainerSettings settings) {
    return copy(c -> c.containers = settings);
  }

  public GatewayConfig withThriftPort(int port) {
    return copy(c -> c.thriftPort = port);
  }

  public GatewayConfig withOipPort(int port) {
    return copy(c -> c.oipPort = port);
  }

  public GatewayConfig withHomeDeployRoots(List<Path> roots) {
    return copy(c -> c.homeDeployRoots = roots);
  }

  public GatewayConfig withAdmission(AdmissionLimits limits) {
    return copy(c -> c.admission = limits);
  }

  public GatewayConfig withState(StateSettings settings) {
    return copy(c -> c.state = settings);
  }

  public GatewayConfig withContainerMaxima(ResourceLimits maxima) {
    return copy(c -> c.containerMaxima = maxima);
  }

  /** A copy with some settings changed: every with* method goes through here. */
  private GatewayConfig copy(Consumer<Copy> change) {
    Copy copy = new Copy(this);
    change.accept(copy);
    return copy.build();
  }

  public GatewayConfig withTransport(TransportLimits limits) {
    return copy(c -> c.transport = limits);
  }

  public GatewayConfig withIdentities(IdentitySettings settings) {
    return copy(c -> c.identities = settings);
  }

  public GatewayConfig withAccessLog(AccessLogSettings settings) {
    return copy(c -> c.accessLog = settings);
  }

  public GatewayConfig withStop(StopSettings settings) {
    return copy(c -> c.stop = settings);
  }

  /** The record's components as mutable fields, for {@link #copy}. */
  private static final class Copy {
    String host;
    int grpcPort;
    int httpPort;
    List<String> runtimeCommand;
    Optional<Path> workDir;
    int maxPayloadBytes;
    Duration defaultDeadline;
    Duration deployTimeout;
    ContainerSettings containers;
    int thriftPort;
    int oipPort;
    List<Path> homeDeployRoots;
    AdmissionLimits admission;
    StateSettings state;
    ResourceLimits containerMaxima;
    TransportLimits transport;
    boolean insecureNoAuth;
    IdentitySettings identities;
    Set<String> gatewayAdmins;
    Optional<JwtSettings> jwt;
    AccessLogSettings accessLog;
    StopSettings stop;

    Copy(GatewayConfig c) {
      host = c.host();
      grpcPort = c.grpcPort();
      httpPort = c.httpPort();
      runtimeCommand = c.runtimeCommand();
      workDir = c.workDir();
      maxPayloadBytes = c.maxPayloadBytes();
      defaultDeadline = c.defaultDeadline();
      deployTimeout = c.deployTimeout();
      containers = c.containers();
      thriftPort = c.thriftPort();
      oipPort = c.oipPort();
      homeDeployRoots = c.homeDeployRoots();
      admission = c.admission();
      state = c.state();
      containerMaxima = c.containerMaxima();
      transport = c.transport();
      insecureNoAuth = c.insecureNoAuth();
      identities = c.identities();
      gatewayAdmins = c.gatewayAdmins();
      jwt = c.jwt();
      accessLog = c.accessLog();
      stop = c.stop();
    }

    GatewayConfig build() {
      return new GatewayConfig(host, grpcPort, httpPort, runtimeCommand, workDir,
          maxPayloadBytes, defaultDeadline, deployTimeout, containers, thriftPort, oipPort,
          homeDeployRoots, admission, state, containerMaxima, transport, insecureNoAuth,
          identities, gatewayAdmins, jwt, accessLog, stop);
    }
  }
}
