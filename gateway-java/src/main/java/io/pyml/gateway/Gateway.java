package io.pyml.gateway;

import io.grpc.Server;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.pyml.gateway.config.ContainerSettings;
import io.pyml.gateway.config.ConfigException;
import io.pyml.gateway.config.Exposure;
import io.pyml.gateway.config.IdentitySettings;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.config.StopSettings;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeployRules;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.HomeDeployPolicy;
import io.pyml.gateway.dispatch.AccessLog;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.console.ConsoleRoutes;
import io.pyml.gateway.frontend.console.ConsoleSessions;
import io.pyml.gateway.frontend.grpc.AdminGrpcService;
import io.pyml.gateway.frontend.grpc.PredictionGrpcService;
import io.pyml.gateway.frontend.health.GatewayHealth;
import io.pyml.gateway.frontend.http.HealthRoutes;
import io.pyml.gateway.frontend.http.HttpFrontEnd;
import io.pyml.gateway.frontend.http.MetricsRoutes;
import io.pyml.gateway.frontend.http.V2Routes;
import io.pyml.gateway.frontend.oip.OipFrontEnd;
import io.pyml.gateway.frontend.thrift.ThriftFrontEnd;
import io.pyml.gateway.frontend.transport.GrpcTransport;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.IdentityStoreException;
import io.pyml.gateway.identity.JdbcIdentityStore;
import io.pyml.gateway.identity.JwtVerifier;
import io.pyml.gateway.metrics.GatewayMetrics;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.BindSources;
import io.pyml.gateway.sidecar.DockerSidecarLauncher;
import io.pyml.gateway.sidecar.ProcessSidecarLauncher;
import io.pyml.gateway.sidecar.RoutingSidecarLauncher;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.sidecar.WorkDirs;
import io.pyml.gateway.state.JsonFileDeploymentStore;
import io.pyml.gateway.state.StateDirLock;
import io.pyml.gateway.state.StateException;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The running gateway: wires config, runtimes, the data plane and front ends, and stops them in
 * order. {@link Main} and the tests start it through the same {@link #start} functions.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
  /** Room for the request's other fields (name, id) around a payload of the maximum size. */
  static final int ENVELOPE_MARGIN_BYTES = 64 * 1024;
  /** At most this long before serving, for restored deployments to be READY again. */
  static final Duration ADOPTION_WAIT = Duration.ofSeconds(10);

  private final Server server;
  private final HttpFrontEnd http;
  private final ThriftFrontEnd thrift;
  private final OipFrontEnd oip;
  private final GrpcTransport grpcTransport;
  private final GatewayHealth health;
  private final DeploymentManager deployments;
  private final SidecarTransport transport;
  private final SidecarLauncher launcher;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private final StateDirLock stateLock;
  private final Access access;
  private final AccessLog accessLog;
  private final StopSettings stop;
  private boolean closed;

  private Gateway(Server server, HttpFrontEnd http, ThriftFrontEnd thrift, OipFrontEnd oip,
      GrpcTransport grpcTransport, GatewayHealth health, DeploymentManager deployments,
      SidecarTransport transport, SidecarLauncher launcher, Path workDir, boolean ownsWorkDir,
      StateDirLock stateLock, Access access, AccessLog accessLog, StopSettings stop) {
    this.accessLog = accessLog;
    this.access = access;
    this.stop = stop;
    this.launcher = launcher;
    this.stateLock = stateLock;
    this.server = server;
    this.http = http;
    this.thrift = thrift;
    this.oip = oip;
    this.grpcTransport = grpcTransport;
    this.health = health;
    this.deployments = deployments;
    this.transport = transport;
    this.workDir = workDir;
    this.ownsWorkDir = ownsWorkDir;
  }

  /**
   * Starts with home-folder runtimes as local processes of {@code config.runtimeCommand()} and
   * registered versions as containers; first takes the state folder's lock (one gateway per
   * id), then lists the containers a previous run of the same gateway id left behind, which
   * the restored deployments adopt (the others are removed).
   */
  public static Gateway start(GatewayConfig config) throws IOException {
    return start(config, Optional.empty());
  }

  /** With {@code launcher} (tests: fakes), under the state folder's lock like {@link #start}. */
  public static Gateway start(GatewayConfig config, SidecarLauncher launcher) throws IOException {
    return start(config, Optional.of(launcher));
  }

  private static Gateway start(GatewayConfig config, Optional<SidecarLauncher> launcher)
      throws IOException {
    StateDirLock lock = StateDirLock.acquire(config.state().stateDir(),
        config.containers().gatewayId());
    Access access = null;
    try {
      access = openAccess(config);
      LOG.info(Exposure.check(config, access.enabled()));
      // After the lock: a refused second gateway must not touch (or, on its way out, remove)
      // the containers of the one that holds it.
      return start(config, launcher.orElseGet(() -> containerLauncher(config)), lock, access);
    } catch (IOException | RuntimeException e) {
      if (access != null) {
        access.close();
      }
      lock.close();
      throw e;
    }
  }

  /**
   * Identities, grants and the audit log: by default in the state folder's SQLite file,
   * created readable by the gateway's user only; else where --identity-store-url says. With
   * a JWT key set, an identity provider's signed tokens identify callers too.
   */
  private static Access openAccess(GatewayConfig config) throws IOException {
    IdentitySettings settings = config.identities();
    if (settings.storeUrl().isEmpty()) {
      Path file = config.state().stateDir().resolve(IdentitySettings.DEFAULT_FILE);
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------")));
      }
    }
    Optional<Function<String, Optional<String>>> jwt = Optional.empty();
    if (config.jwt().isPresent()) {
      JwtVerifier verifier = JwtVerifier.from(config.jwt().get());
      jwt = Optional.of(verifier::identify);
    }
    try {
      return new Access(JdbcIdentityStore.open(settings.jdbcUrl(config.state().stateDir()),
          settings.password()), jwt, config.gatewayAdmins(), Clock.systemUTC());
    } catch (IdentityStoreException | ConfigException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private static SidecarLauncher containerLauncher(GatewayConfig config) {
    ContainerSettings containers = config.containers();
    BindSources bindSources = containers.hostWorkDir()
        .map(host -> new BindSources(config.workDir().orElseThrow(), Optional.of(host)))
        .orElseGet(BindSources::sameHost);
    DockerSidecarLauncher docker = new DockerSidecarLauncher(containers.dockerHost(),
        containers.gatewayId(), containers.limits(), containers.runtimeWorkers(), bindSources);
    docker.findLeftovers();
    return new RoutingSidecarLauncher(
        new ProcessSidecarLauncher(config.runtimeCommand(), containers.limits(),
            containers.runtimeWorkers()), docker);
  }

  /**
   * Restores the deployments recorded in the state folder before serving, so a restarted
   * gateway answers for them from its first call.
   */
  private static Gateway start(GatewayConfig config, SidecarLauncher launcher,
      StateDirLock stateLock, Access access) throws IOException {
    AccessLog accessLog = AccessLog.open(config.accessLog()); // first: its errors stop start
    boolean ownsWorkDir = config.workDir().isEmpty();
    // The same folder for every run of the gateway id: adopted containers' sockets are there.
    Path workDir = ownsWorkDir
        ? WorkDirs.ensurePrivate(WorkDirs.defaultFor(config.containers().gatewayId()))
        : Files.createDirectories(config.workDir().get().toAbsolutePath());
    // Outputs may be larger than inputs; capped so the multiplication cannot overflow.
    int maxRuntimeAnswer = (int) Math.min(Integer.MAX_VALUE, 4L * config.maxPayloadBytes());
    SidecarTransport transport = new SidecarTransport(maxRuntimeAnswer);
    DeploymentManager deployments = new DeploymentManager(launcher, transport, workDir,
        config.deployTimeout(), config.admission(),
        new JsonFileDeploymentStore(config.state().stateDir()),
        config.state().dockerRetry());
    DeployRules rules = deployRules(config, workDir,
        new ModelRegistry(config.containers().registryDir()));
    try {
      awaitAdoptions(deployments.restore(rules));
    } catch (StateException e) {
      accessLog.close();
      deployments.close();
      transport.close();
      launcher.close();
      throw new IOException(e.getMessage(), e);
    }
    GatewayMetrics metrics = new GatewayMetrics(
        () -> deployments.list().stream().map(Deployment::view).toList());
    DataPlane plane = new DataPlane(deployments, rules, access, config.maxPayloadBytes(),
        config.defaultDeadline(), metrics, accessLog);
    GatewayHealth health = GatewayHealth.following(deployments);
    // Native Predict only: OIP's ModelInfer converts tensors, CPU work kept off the transport.
    GrpcTransport grpcTransport = new GrpcTransport(config.transport(),
        Set.of(PredictionServiceGrpc.getPredictMethod().getFullMethodName()),
        access::checksInMemory);
    Server server = grpcTransport
        .builder(new InetSocketAddress(config.host(), config.grpcPort()))
        // gRPC itself refuses far larger messages before they are buffered whole.
        .maxInboundMessageSize(config.maxPayloadBytes() + ENVELOPE_MARGIN_BYTES)
        .addService(PredictionGrpcService.definition(plane))
        .addService(new AdminGrpcService(plane))
        .addService(health.grpcService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      accessLog.close();
      grpcTransport.close();
      deployments.close();
      transport.close();
      launcher.close();
      throw new IOException("cannot serve gRPC on " + config.host() + ":" + config.grpcPort()
          + ": " + e.getMessage(), e);
    }
    HttpFrontEnd http = null;
    ThriftFrontEnd thrift = null;
    OipFrontEnd oip = null;
    int maxFrame = config.maxPayloadBytes() + ENVELOPE_MARGIN_BYTES;
    try {
      // The same data plane as gRPC: one routing, limit and error path for every protocol.
      thrift = ThriftFrontEnd.start(config.host(), config.thriftPort(), maxFrame,
          config.transport(), plane);
      oip = OipFrontEnd.start(config.host(), config.oipPort(), maxFrame, grpcTransport,
          plane, health);
      // A scraper reconnects at no cost: its port frees a silent connection at the sooner limit.
      Duration httpIdle = Collections.min(List.of(config.transport().connectionIdle(),
          config.transport().requestReadTimeout()));
      // V2 REST goes through OIP's service: one conversion of V2 tensors for both bindings.
      http = HttpFrontEnd.start(config.host(), config.httpPort(), httpIdle,
          config.transport().maxConnectionsPerPort(),
          List.of(new HealthRoutes(health), new MetricsRoutes(metrics),
              new V2Routes(oip.service(), config.maxPayloadBytes(), maxFrame),
              new ConsoleRoutes(plane, rules.registry(), metrics, new ConsoleSessions(),
                  Clock.systemUTC())));
    } catch (IOException e) {
      if (oip != null) {
        oip.close();
      }
      if (thrift != null) {
        thrift.close();
      }
      server.shutdownNow();
      accessLog.close();
      grpcTransport.close();
      deployments.close();
      transport.close();
      launcher.close();
      throw e;
    }
    LOG.info("serving gRPC on " + config.host() + ":" + server.getPort() + ", metrics and V2 REST"
        + " inference and the console on http://" + config.host() + ":" + http.port()
        + " (/livez, /readyz, /metrics, /v2, /console),"
        + " runtimes under " + workDir);
    return new Gateway(server, http, thrift, oip, grpcTransport, health, deployments, transport,
        launcher, workDir, ownsWorkDir, stateLock, access, accessLog, config.stop());
  }

  /**
   * Waits, briefly, for deployments that adopted runtimes to be READY again: such a runtime
   * only needs its health and validation checked, so the first calls find it serving. (Those
   * that start new runtimes are not waited for: that may take minutes.)
   */
  private static void awaitAdoptions(List<Deployment> adopting) {
    CompletableFuture<?>[] settled = adopting.stream().map(Deployment::settled)
        .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(settled).get(ADOPTION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      LOG.info("serving before every restored deployment is READY (they go on starting)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Registry, home-deploy policy and override maxima, as every deploy request meets them. */
  private static DeployRules deployRules(GatewayConfig config, Path workDir,
      ModelRegistry registry) {
    HomeDeployPolicy homes = new HomeDeployPolicy(config.homeDeployRoots(), workDir);
    if (homes.enabled()) {
      LOG.warning("development mode: Admin Deploy may run home folders under "
          + homes.roots() + " as local processes (--home-deploy-roots)");
    }
    return new DeployRules(registry, homes,
        config.containerMaxima());
  }

  public int grpcPort() {
    return server.getPort();
  }

  public int httpPort() {
    return http.port();
  }

  public int thriftPort() {
    return thrift.port();
  }

  public int oipPort() {
    return oip.port();
  }

  public DeploymentManager deployments() {
    return deployments;
  }

  public Path workDir() {
    return workDir;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * On SIGTERM/SIGINT (Main's shutdown hook) and for tests: stops taking calls on every port,
   * lets the calls in flight finish within the shutdown grace, then stops the runtimes or
   * leaves the containers running for the next gateway of the same id (--on-stop).
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    health.stopping();
    LOG.info("stopping: no new calls; calls in flight have " + stop.grace().toMillis()
        + " ms to finish (--shutdown-grace-ms), then the model containers are "
        + (stop.onStop() == StopSettings.OnStop.LEAVE
            ? "left running for the next gateway to adopt (--on-stop leave)"
            : "stopped (--on-stop stop)"));
    server.shutdown();
    oip.stopAccepting();
    thrift.stopAccepting();
    http.stopAccepting();
    drain();
    server.shutdownNow();
    http.close();
    thrift.close();
    oip.close();
    accessLog.close();
    grpcTransport.close();
    boolean leave = stop.onStop() == StopSettings.OnStop.LEAVE;
    deployments.close(leave);
    transport.close();
    if (leave) {
      launcher.closeLeavingRuntimes();
    } else {
      launcher.close();
    }
    if (ownsWorkDir) {
      WorkDirs.removeIfEmpty(workDir);
    }
    access.close();
    stateLock.close();
    LOG.info("stopped");
  }

  /** Waits, within the grace, for the calls in flight on every port (bounded, not timed). */
  private void drain() {
    long until = System.nanoTime() + stop.grace().toNanos();
    try {
      boolean done = server.awaitTermination(left(until).toNanos(), TimeUnit.NANOSECONDS)
          & oip.awaitCalls(left(until))
          & deployments.awaitCalls(left(until)); // Thrift's and HTTP's calls too
      if (!done) {
        LOG.warning("calls still in flight after the shutdown grace of "
            + stop.grace().toMillis() + " ms are cut");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Duration left(long untilNanos) {
    return Duration.ofNanos(Math.max(0, untilNanos - System.nanoTime()));
  }
}
