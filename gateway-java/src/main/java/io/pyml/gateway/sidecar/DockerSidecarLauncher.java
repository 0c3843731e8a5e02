package io.pyml.gateway.sidecar;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Runs a registered version's image as a hardened container, the way {@code pyml_launcher.local}
 * runs it for the data scientist: no network, read-only root with a tmpfs /tmp, uid 65534, no
 * capabilities, no-new-privileges, memory/CPU/pids limits. The socket folder is bind-mounted at
 * {@code /run/pyml}, where the image's entrypoint serves {@code model.sock}; its bind source is
 * the folder's path on the engine's host ({@link BindSources}), which differs from the
 * gateway's own path when the gateway itself runs in a container. Every container carries
 * {@code io.pyml.gateway=<gateway id>} so this gateway (and only it) can clean up, and its
 * socket folder's path, so that a restarted gateway with the same id can adopt it
 * ({@link #findLeftovers}, {@link #adopt}, {@link #removeUnadopted}).
 */
public final class DockerSidecarLauncher implements SidecarLauncher {
  private static final Logger LOG = Logger.getLogger(DockerSidecarLauncher.class.getName());
  public static final String GATEWAY_LABEL = "io.pyml.gateway";
  public static final String NAME_LABEL = "io.pyml.model.name";
  public static final String VERSION_LABEL = "io.pyml.model.version";
  /** The socket folder as the gateway sees it: where a restarted gateway finds the socket. */
  public static final String SOCKET_DIR_LABEL = "io.pyml.socket-dir";
  /** How many runtime workers the container runs (one socket each); absent means 1. */
  public static final String WORKERS_LABEL = "io.pyml.runtime-workers";

  private final String dockerHost;
  private final String gatewayId;
  private final ResourceLimits defaults;
  private final int workersSetting;
  private final BindSources bindSources;
  private final DockerClient docker;
  /** Containers a previous run left, listed at start, not yet adopted or removed. */
  private final List<Container> leftovers = new ArrayList<>(); // guarded by this
  /** Containers created before this (in seconds, Docker's unit) are a previous run's. */
  private final long startedAt = System.currentTimeMillis() / 1000;
  /** Docker was away at start: leftovers are removed once it answers (none adopted). */
  private boolean leftoversUnknown; // guarded by this
  private final ContainerPolicy policy = ContainerPolicy.load();

  /**
   * @param workersSetting runtime workers per container; 0: one per CPU of its limit
   *     ({@link RuntimeWorkers#resolve})
   */
  public DockerSidecarLauncher(String dockerHost, String gatewayId, ResourceLimits defaults,
      int workersSetting, BindSources bindSources) {
    this.dockerHost = dockerHost;
    this.gatewayId = gatewayId;
    this.defaults = defaults;
    this.workersSetting = workersSetting;
    this.bindSources = bindSources;
    DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(dockerHost).withDockerTlsVerify(false).build();
    ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost())
        // Connecting is local and fast, or it fails: a dead engine must not stall a deploy.
        .connectionTimeout(Duration.ofSeconds(3))
        .maxConnections(64)
        .build();
    // Building the client connects to nothing; the first call does.
    this.docker = DockerClientImpl.getInstance(config, http);
  }

  public String gatewayId() {
    return gatewayId;
  }

  /**
   * Docker answers and has the image, and the image is the version's (its id and labels match
   * the manifest, {@link ImageIdentity}); else UNAVAILABLE / FAILED_PRECONDITION, before any
   * state.
   */
  @Override
  public void preflight(RuntimeSpec spec) {
    ping();
    checkIdentity(spec);
  }

  private void checkIdentity(RuntimeSpec spec) {
    String image = spec.image().orElseThrow();
    InspectImageResponse inspected;
    try {
      inspected = docker.inspectImageCmd(image).exec();
    } catch (NotFoundException e) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "image " + image + " of model '"
          + spec.name() + "' version " + spec.version() + " is not in Docker at " + dockerHost
          + " (was it removed after packaging?)");
    }
    Map<String, String> labels = inspected.getConfig() == null ? Map.of()
        : inspected.getConfig().getLabels();
    ImageIdentity.mismatch(spec, inspected.getId(), labels).ifPresent(problem -> {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, problem);
    });
  }

  /**
   * Creates a container under a readable name; if another container holds it (one a crashed
   * gateway left, or an adopted one of an earlier numbering), under that name made unique.
   */
  private static String create(String name, Function<String, String> create) {
    try {
      return create.apply(name);
    } catch (ConflictException e) {
      return create.apply(ContainerNames.unique(name));
    }
  }

  @Override
  public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
    String image = spec.image().orElseThrow(() ->
        new IllegalArgumentException("a container runtime needs an image"));
    ResourceLimits limits = spec.limits().orElse(defaults);
    removeUnknownLeftovers(socketDir.getParent());
    try {
      checkIdentity(spec); // again: each restart starts the image anew
    } catch (GatewayException e) {
      throw e; // gone, or not the version's image: no retry can mend that
    } catch (RuntimeException e) {
      throw new IOException(e.getMessage(), e); // Docker away: retried (RuntimeStarter)
    }
    SocketDirs.create(socketDir);
    // The runtime (uid 65534) creates its socket here, then the folder is locked (read-only
    // for it) before the model loads: see SocketDirLock.
    SocketDirLock.open(socketDir);
    int workers = RuntimeWorkers.resolve(workersSetting, limits.cpus());
    List<Path> sockets = RuntimeWorkers.sockets(
        socketDir.resolve(ProcessSidecarLauncher.SOCKET_FILE), workers);
    SocketDirs.checkSocketPath(sockets.get(sockets.size() - 1));
    String id = null;
    try {
      id = create(ContainerNames.of(gatewayId, spec, socketDir), name -> docker
          .createContainerCmd(image)
          .withName(name)
          .withUser(policy.runtimeUser())
          .withEnv(RuntimeWorkers.ENV + "=" + workers, RuntimeWorkers.CPU_OFFSET_ENV + "="
              + RuntimeWorkers.nextCpuOffset(workers))
          .withLabels(Map.of(GATEWAY_LABEL, gatewayId, NAME_LABEL, spec.name(),
              VERSION_LABEL, Long.toString(spec.version()),
              SOCKET_DIR_LABEL, socketDir.toAbsolutePath().normalize().toString(),
              WORKERS_LABEL, Integer.toString(workers)))
          .withHostConfig(hostConfig(policy, bindSources.of(socketDir), limits))
          .exec().getId());
      docker.startContainerCmd(id).exec();
      SocketDirLock.lockWhenBound(sockets);
    } catch (RuntimeException e) {
      if (id != null) {
        DockerSidecar.removeQuietly(docker, id);
      }
      SocketDirs.deleteRecursively(socketDir);
      throw new IOException("cannot start a container of image " + image + " in Docker at "
          + dockerHost + ": " + e.getMessage(), e);
    }
    LOG.info("model '" + spec.name() + "' version " + spec.version() + ": container "
        + id.substring(0, 12) + " of image " + image + " started with " + workers
        + " runtime worker(s)");
    return new DockerSidecar(docker, id, socketDir, sockets, limits);
  }

  /**
   * Lists the containers a previous run of this gateway id left (a crash or kill skips the
   * shutdown hook), for {@link #adopt} to take over and {@link #removeUnadopted} to remove.
   * Returns how many; 0 when Docker cannot be reached (logged, not fatal: process runtimes
   * still work and container starts are retried).
   */
  public synchronized int findLeftovers() {
    leftovers.clear();
    try {
      leftovers.addAll(ownContainers());
    } catch (RuntimeException e) {
      LOG.warning("cannot reach Docker at " + dockerHost + " to list the containers a previous "
          + "run left (they are removed once Docker answers): " + e.getMessage());
      leftoversUnknown = true;
    }
    return leftovers.size();
  }

  /** Docker was away at start: the first launch that reaches it removes the old containers. */
  private synchronized void removeUnknownLeftovers(Path workDir) {
    if (!leftoversUnknown) {
      return;
    }
    List<Container> own;
    try {
      own = ownContainers();
    } catch (RuntimeException e) {
      return; // still away: the launch that follows says so
    }
    leftoversUnknown = false;
    own.stream().filter(c -> c.getCreated() != null && c.getCreated() < startedAt)
        .forEach(c -> remove(c, workDir));
  }

  /**
   * Takes over a left-over container that runs {@code spec}: same model name and version, same
   * image, the same limits it would get now, and its socket (under {@code workDir}) accepts.
   * A candidate that fails a check is removed. Empty when none is left.
   */
  @Override
  public synchronized Optional<RunningSidecar> adopt(RuntimeSpec spec, Path workDir) {
    for (Iterator<Container> it = leftovers.iterator(); it.hasNext(); ) {
      Container container = it.next();
      Map<String, String> labels = container.getLabels();
      if (!spec.name().equals(labels.get(NAME_LABEL))
          || !Long.toString(spec.version()).equals(labels.get(VERSION_LABEL))) {
        continue;
      }
      it.remove();
      ResourceLimits limits = spec.limits().orElse(defaults);
      int workers = RuntimeWorkers.resolve(workersSetting, limits.cpus());
      Optional<String> refused = LeftoverCheck.refusal(docker, container, spec, limits, workers,
          workDir);
      if (refused.isEmpty()) {
        Path socketDir = Path.of(labels.get(SOCKET_DIR_LABEL));
        LOG.info("model '" + spec.name() + "' version " + spec.version() + ": adopted container "
            + container.getId().substring(0, 12) + " left by a previous run");
        return Optional.of(new DockerSidecar(docker, container.getId(), socketDir,
            RuntimeWorkers.sockets(socketDir.resolve(ProcessSidecarLauncher.SOCKET_FILE),
                workers), limits));
      }
      LOG.info("removing container " + container.getId().substring(0, 12) + " left by a "
          + "previous run: " + refused.get());
      remove(container, workDir);
    }
    return Optional.empty();
  }

  /** Removes a left-over container and its socket folder (only one under the work dir). */
  private void remove(Container container, Path workDir) {
    DockerSidecar.removeQuietly(docker, container.getId());
    String label = container.getLabels().get(SOCKET_DIR_LABEL);
    Path work = workDir.toAbsolutePath().normalize();
    if (label != null) {
      Path socketDir = Path.of(label).toAbsolutePath().normalize();
      if (socketDir.startsWith(work) && !socketDir.equals(work)) {
        SocketDirs.deleteRecursively(socketDir);
      }
    }
  }

  /** Removes the left-over containers no deployment adopted (versions no longer desired...). */
  @Override
  public synchronized void removeUnadopted(Path workDir) {
    leftovers.forEach(c -> remove(c, workDir));
    if (!leftovers.isEmpty()) {
      LOG.info("removed " + leftovers.size() + " container(s) left by a previous run of gateway '"
          + gatewayId + "' that no deployment adopted");
    }
    leftovers.clear();
  }

  /** Removes every container of this gateway id (at stop: deployments stopped theirs). */
  public int removeLeftovers() {
    List<Container> own = listOwn("remove leftover containers");
    own.forEach(c -> DockerSidecar.removeQuietly(docker, c.getId()));
    return own.size();
  }

  /** Every container of this gateway id, running or not; Docker's error when it is away. */
  private List<Container> ownContainers() {
    return docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(GATEWAY_LABEL, gatewayId)).exec();
  }

  private List<Container> listOwn(String what) {
    try {
      return ownContainers();
    } catch (RuntimeException e) {
      LOG.warning("cannot reach Docker at " + dockerHost + " to " + what + ": " + e.getMessage());
      return List.of();
    }
  }

  @Override
  public void close() {
    // Deployments stopped their containers; this catches any a failed stop left behind.
    removeLeftovers();
    closeLeavingRuntimes();
  }

  /** Closes the Docker client only: the containers left running are the next gateway's. */
  @Override
  public void closeLeavingRuntimes() {
    try {
      docker.close();
    } catch (IOException e) {
      LOG.warning("closing the Docker client: " + e.getMessage());
    }
  }

  private void ping() {
    try {
      docker.pingCmd().exec();
    } catch (RuntimeException e) {
      throw new GatewayException(ErrorKind.UNAVAILABLE, "cannot reach Docker at " + dockerHost
          + ": " + (e.getMessage() == null ? e.toString() : e.getMessage())
          + " (is the Docker engine running? see --docker-host)", e);
    }
  }

  /** The shared hardening policy (container_policy.json) plus this runtime's limits. */
  static HostConfig hostConfig(ContainerPolicy policy, String socketDirOnHost,
      ResourceLimits limits) {
    return HostConfig.newHostConfig()
        .withBinds(new Bind(socketDirOnHost, new Volume(policy.socketDir())))
        .withNetworkMode(policy.networkMode())
        .withReadonlyRootfs(policy.readOnlyRootfs())
        // Python's tempfile needs a writable /tmp; nothing else in the image is writable.
        .withTmpFs(policy.runtimeTmpfs())
        .withCapDrop(policy.capDrop().stream().map(Capability::valueOf).toArray(Capability[]::new))
        .withSecurityOpts(policy.securityOpt())
        .withMemory(limits.memoryBytes())
        .withMemorySwap(limits.memoryBytes()) // no swap: the limit is the limit
        .withNanoCPUs((long) (limits.cpus() * 1e9))
        .withPidsLimit((long) limits.pids())
        // A chatty (or hostile) model must not fill the host's disk with its log.
        .withLogConfig(new LogConfig(loggingType(policy.logType()), policy.logConfig()));
  }

  private static LogConfig.LoggingType loggingType(String driver) {
    for (LogConfig.LoggingType type : LogConfig.LoggingType.values()) {
      if (type != LogConfig.LoggingType.DEFAULT && type.getType().equals(driver)) {
        return type;
      }
    }
    throw new IllegalStateException("log driver '" + driver + "' of "
        + ContainerPolicy.RESOURCE + " is unknown to docker-java");
  }
}
