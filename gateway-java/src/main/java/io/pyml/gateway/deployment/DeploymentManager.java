package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.state.DeploymentStore;
import io.pyml.gateway.state.DesiredDeployment;
import io.pyml.gateway.state.StateException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Owns every deployment and the routing table: for each model name, the live deployment
 * (the one predictions go to) and at most one candidate that replaces it once READY.
 * A candidate exists only while a READY deployment serves; if it fails, the old one stays.
 *
 * <p>The live deployment of each name is recorded in the {@link DeploymentStore} (a candidate
 * once it takes over), so a restarted gateway serves it again ({@link #restore}). Home-folder
 * deployments are not recorded: they are a development mode that runs the folder's code on
 * the host as it is now, unversioned; a restart must not run host code nobody asked it to run.
 */
public final class DeploymentManager implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(DeploymentManager.class.getName());
  /** How long failed starts that are not the model's fault are retried, unless configured. */
  public static final Duration DEFAULT_DOCKER_RETRY = Duration.ofMinutes(3);

  private final RuntimeStarter starter;
  private final AdmissionLimits admission;
  private final DeploymentStore store;
  private final RetryPolicy retry;
  /** Orders writes to the store; never taken while holding this. */
  private final Object storeLock = new Object();
  private final ExecutorService executor;
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Slot> slots = new HashMap<>(); // guarded by this
  private boolean closed; // guarded by this
  private volatile ReadinessListener readinessListener = ReadinessListener.NONE;

  /** One model name's routing entry. */
  private static final class Slot {
    Deployment live;
    Deployment candidate;
  }

  /** No persistence, and failed container starts retried for the default window. */
  public DeploymentManager(SidecarLauncher launcher, SidecarTransport transport, Path workDir,
      Duration deployTimeout) {
    this(launcher, transport, workDir, deployTimeout, AdmissionLimits.DEFAULTS,
        DeploymentStore.none(), DEFAULT_DOCKER_RETRY);
  }

  /**
   * @param admission calls and bytes in flight per runtime and the admission queue
   * @param store where the desired deployments are recorded and restored from
   * @param dockerRetry how long failed starts that are not the model's fault are retried
   */
  public DeploymentManager(SidecarLauncher launcher, SidecarTransport transport, Path workDir,
      Duration deployTimeout, AdmissionLimits admission, DeploymentStore store,
      Duration dockerRetry) {
    this(launcher, transport, workDir, deployTimeout, admission, store,
        RetryPolicy.within(dockerRetry));
  }

  DeploymentManager(SidecarLauncher launcher, SidecarTransport transport, Path workDir,
      Duration deployTimeout, AdmissionLimits admission, DeploymentStore store,
      RetryPolicy retry) {
    this.admission = admission;
    this.starter = new RuntimeStarter(launcher, transport, workDir, deployTimeout);
    this.store = store;
    this.retry = retry;
    this.executor = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "pyml-supervisor");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Starts deploying; the returned deployment's {@code settled()} says when it is done. What
   * cannot be launched at all (e.g. Docker unreachable) is refused here, before any state.
   */
  public Deployment deploy(DeploySpec spec) {
    starter.launcher().preflight(spec.runtime());
    Deployment deployment = newDeployment(spec);
    List<Deployment> displaced = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        throw new GatewayException(ErrorKind.UNAVAILABLE, "the gateway is shutting down");
      }
      Slot slot = slots.computeIfAbsent(spec.name(), name -> new Slot());
      if (slot.candidate != null) {
        displaced.add(slot.candidate);
        slot.candidate = null;
      }
      if (slot.live != null && slot.live.state() == DeploymentState.READY) {
        slot.candidate = deployment; // the READY one keeps serving until this one is READY
      } else {
        if (slot.live != null) {
          displaced.add(slot.live);
        }
        slot.live = deployment;
      }
    }
    displaced.forEach(old -> retire(old, false));
    settledAndRouted(deployment); // the switch happens whether or not anyone waits
    record(spec.name());
    readinessChanged(); // a new name is not ready yet
    for (Replica replica : deployment.replicas()) {
      supervise(deployment, replica, Optional.empty());
    }
    return deployment;
  }

  /**
   * At the gateway's start, before it serves: deploys every recorded deployment again. A
   * replica first adopts the runtime a previous run of the gateway left serving it, if the
   * launcher finds a healthy one; runtimes nobody adopted are then removed, with their socket
   * folders. A recorded version the registry no longer serves shows as FAILED with the reason
   * (and stays recorded). Returns the restored deployments that adopted a runtime: READY again
   * within a health check and a validation.
   *
   * @throws StateException when the store cannot be read: better not to start than to forget
   */
  public List<Deployment> restore(DeployRules rules) throws StateException {
    List<Deployment> restored = new ArrayList<>();
    Map<Replica, RunningSidecar> adopted = new HashMap<>();
    for (DesiredDeployment desired : store.load()) {
      Deployment deployment;
      try {
        deployment = newDeployment(DeploySpec.restored(desired, rules));
      } catch (GatewayException e) {
        LOG.warning("not restoring model '" + desired.name() + "': " + e.getMessage());
        showFailed(newDeployment(DeploySpec.recorded(desired)),
            "not restored at the gateway's start: " + e.getMessage());
        continue;
      }
      synchronized (this) {
        slots.computeIfAbsent(desired.name(), name -> new Slot()).live = deployment;
      }
      for (Replica replica : deployment.replicas()) {
        starter.launcher().adopt(deployment.spec().runtime(), starter.workDir())
            .ifPresent(sidecar -> adopted.put(replica, sidecar));
      }
      restored.add(deployment);
    }
    starter.launcher().removeUnadopted(starter.workDir());
    for (Deployment deployment : restored) {
      settledAndRouted(deployment);
      for (Replica replica : deployment.replicas()) {
        supervise(deployment, replica, Optional.ofNullable(adopted.get(replica)));
      }
    }
    readinessChanged();
    LOG.info("restored " + restored.size() + " deployment(s), adopting " + adopted.size()
        + " runtime(s) left by the previous run");
    return restored.stream()
        .filter(d -> d.replicas().stream().anyMatch(adopted::containsKey)).toList();
  }

  private void showFailed(Deployment deployment, String why) {
    synchronized (this) {
      slots.computeIfAbsent(deployment.name(), name -> new Slot()).live = deployment;
    }
    if (deployment.fail(why, List.of())) {
      deployment.release(false);
    }
  }

  private void supervise(Deployment deployment, Replica replica,
      Optional<RunningSidecar> adopted) {
    executor.execute(new ReplicaSupervisor(deployment, replica, starter, retry, adopted));
  }

  /**
   * Writes what now serves {@code name} (its live deployment) to the store, or forgets the
   * name. Reads the routing table under the store's lock: whatever order concurrent calls run
   * in, the last write is of the latest state. A failed write is logged loudly; the deployment
   * itself goes on.
   */
  private void record(String name) {
    synchronized (storeLock) {
      Optional<DesiredDeployment> desired;
      synchronized (this) {
        if (closed) {
          return; // stopping is not undeploying: the record stays for the next start
        }
        Slot slot = slots.get(name);
        desired = slot == null || slot.live == null ? Optional.empty() : slot.live.spec().desired();
      }
      try {
        if (desired.isPresent()) {
          store.put(desired.get());
        } else {
          store.remove(name);
        }
      } catch (StateException e) {
        LOG.severe("model '" + name + "': " + e.getMessage() + " (a restarted gateway will not "
            + "know of this change)");
      }
    }
  }

  /**
   * Completes like {@code deployment.settled()}, but a READY deployment is live by then, so a
   * caller told READY sends its next prediction to it. (A future's dependents run in no set
   * order: waiting on settled() alone could answer before the routing switch.) Whichever
   * caller switches first does it; the others find it done.
   */
  public CompletableFuture<DeploymentView> settledAndRouted(Deployment deployment) {
    return deployment.settled().thenApply(view -> {
      if (view.state() == DeploymentState.READY) {
        promote(deployment);
      }
      return view;
    });
  }

  /** Stops every deployment of the model; completes once their runtimes are stopped. */
  public CompletableFuture<Void> undeploy(String name) {
    Slot slot;
    synchronized (this) {
      slot = slots.remove(name);
    }
    if (slot == null) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' is not deployed");
    }
    record(name);
    readinessChanged();
    return CompletableFuture.allOf(retire(slot.live, true), retire(slot.candidate, true));
  }

  /** The deployment predictions for this name go to. */
  public synchronized Optional<Deployment> route(String name) {
    Slot slot = slots.get(name);
    return Optional.ofNullable(slot == null ? null : slot.live);
  }

  /** What an operator asking about this name should see: the live one, else the candidate. */
  public synchronized Optional<Deployment> find(String name) {
    Slot slot = slots.get(name);
    if (slot == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(slot.live != null ? slot.live : slot.candidate);
  }

  /**
   * Each deployed name's live deployment, READY or not (see {@link Readiness}); while closing,
   * stopping.
   */
  public Readiness readiness() {
    List<Readiness.ModelReadiness> models = new ArrayList<>();
    boolean stopping;
    synchronized (this) {
      stopping = closed;
      for (Map.Entry<String, Slot> entry : slots.entrySet()) {
        Deployment live = entry.getValue().live;
        if (live != null) {
          models.add(new Readiness.ModelReadiness(entry.getKey(), live.version(),
              Optional.of(live.state())));
        }
      }
    }
    models.sort(Comparator.comparing(Readiness.ModelReadiness::name));
    return new Readiness(stopping, models);
  }

  /**
   * Tells {@code listener} of every change to {@link #readiness()} from now on, and once now.
   * One listener: the gateway's health.
   */
  public void onReadinessChange(ReadinessListener listener) {
    readinessListener = listener;
    listener.readinessMayHaveChanged();
  }

  private void readinessChanged() {
    readinessListener.readinessMayHaveChanged();
  }

  private Deployment newDeployment(DeploySpec spec) {
    return new Deployment(ids.incrementAndGet(), spec, admission, this::readinessChanged);
  }

  /** Live deployments and candidates, by name then age. */
  public synchronized List<Deployment> list() {
    List<Deployment> all = new ArrayList<>();
    for (Slot slot : slots.values()) {
      if (slot.live != null) {
        all.add(slot.live);
      }
      if (slot.candidate != null) {
        all.add(slot.candidate);
      }
    }
    all.sort(Comparator.comparing(Deployment::name).thenComparingLong(Deployment::id));
    return all;
  }

  /**
   * Waits until the calls every deployment took are done, at most {@code grace} in all (the
   * gateway's shutdown, once its front ends take no new call); true when none is left.
   */
  public boolean awaitCalls(Duration grace) throws InterruptedException {
    long until = System.nanoTime() + grace.toNanos();
    boolean done = true;
    for (Deployment deployment : list()) {
      Duration left = Duration.ofNanos(Math.max(0, until - System.nanoTime()));
      done &= deployment.awaitCalls(left);
    }
    return done;
  }

  /** Stops every runtime (the gateway is shutting down) and waits for them, bounded. */
  @Override
  public void close() {
    close(false);
  }

  /**
   * The gateway is shutting down: no deployment takes calls any more; with {@code leave}, the
   * runtimes a next gateway of the same id can adopt (containers) are left running, their
   * deployments still recorded, the others stopped; without, every runtime is stopped. Waits
   * for them, bounded.
   */
  public void close(boolean leave) {
    List<Deployment> all;
    synchronized (this) {
      closed = true;
      all = list();
      slots.clear();
    }
    readinessChanged();
    CompletableFuture<?>[] stops = all.stream().map(d -> retire(d, false, leave))
        .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(stops).get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warning("some runtimes did not stop in time: " + e);
    }
    executor.shutdownNow();
  }

  private void promote(Deployment deployment) {
    Deployment old;
    synchronized (this) {
      Slot slot = slots.get(deployment.name());
      if (slot == null || slot.candidate != deployment) {
        return; // it was undeployed or replaced meanwhile; whoever did that stops it
      }
      old = slot.live;
      slot.live = deployment;
      slot.candidate = null;
    }
    LOG.info(String.format("model '%s': predictions now go to version %d (deployment #%d)",
        deployment.name(), deployment.version(), deployment.id()));
    record(deployment.name());
    readinessChanged();
    retire(old, true);
  }

  /** Marks STOPPED now (routing stops at once) and releases the runtime in the background. */
  private CompletableFuture<Void> retire(Deployment deployment, boolean graceful) {
    return retire(deployment, graceful, false);
  }

  private CompletableFuture<Void> retire(Deployment deployment, boolean graceful,
      boolean leave) {
    if (deployment == null) {
      return CompletableFuture.completedFuture(null);
    }
    deployment.markStopped();
    return CompletableFuture.runAsync(() -> deployment.release(graceful, leave), executor);
  }
}
