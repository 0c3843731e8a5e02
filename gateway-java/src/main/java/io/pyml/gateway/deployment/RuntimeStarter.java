package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeHealth;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import io.pyml.gateway.sidecar.SidecarClient;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SidecarProtocol;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.sidecar.SocketProbe;
import io.pyml.gateway.sidecar.ValidationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Brings one replica's runtime up: launch it, wait for its socket, wait for the model to load,
 * then prove it with the validation data sent through the real Predict path. The same steps
 * for the first start and for every restart: a runtime serves only once validated.
 */
final class RuntimeStarter {
  static final int LOG_LINES = 20;
  private static final Duration POLL = Duration.ofMillis(50);
  private static final Duration HEALTH_CALL = Duration.ofSeconds(1);
  private static final Duration EXIT_GRACE = Duration.ofMillis(500);

  /**
   * Why a start failed, with the runtime's last log lines. Transient: not the model's fault (the
   * launcher could not start it, e.g. Docker is away; or it was killed from outside), so worth
   * retrying; otherwise the model itself failed (exit, OOM, validation, timeout).
   */
  static final class StartFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient List<String> logLines;
    private final boolean transientFailure;

    StartFailure(String reason, List<String> logLines, Throwable cause) {
      this(reason, logLines, cause, false);
    }

    StartFailure(String reason, List<String> logLines, Throwable cause,
        boolean transientFailure) {
      super(reason, cause);
      this.logLines = List.copyOf(logLines);
      this.transientFailure = transientFailure;
    }

    List<String> logLines() {
      return logLines;
    }

    boolean isTransient() {
      return transientFailure;
    }
  }

  /** Starts (or takes over) the runtime of one attempt. */
  private interface Launch {
    RunningSidecar get() throws IOException;
  }

  private final SidecarLauncher launcher;
  private final SidecarTransport transport;
  private final Path workDir;
  private final Duration deployTimeout;

  RuntimeStarter(SidecarLauncher launcher, SidecarTransport transport, Path workDir,
      Duration deployTimeout) {
    this.launcher = launcher;
    this.transport = transport;
    this.workDir = workDir;
    this.deployTimeout = deployTimeout;
  }

  SidecarLauncher launcher() {
    return launcher;
  }

  Path workDir() {
    return workDir;
  }

  /**
   * Takes over {@code sidecar}, a runtime a previous run of the gateway left serving: the same
   * checks as a new one (health, metadata, validation through Predict) before it serves.
   */
  Replica.Runtime adopt(Deployment deployment, Replica replica, RunningSidecar sidecar)
      throws StartFailure, InterruptedException {
    return start(deployment, replica, () -> sidecar);
  }

  /**
   * Starts a runtime for {@code replica} and returns it attached and validated (not yet
   * marked ready). On failure the runtime is stopped and the failure says why.
   *
   * @param attempt counts the replica's starts, so each gets its own socket folder
   */
  Replica.Runtime start(Deployment deployment, Replica replica, int attempt)
      throws StartFailure, InterruptedException {
    return start(deployment, replica, () -> launcher.launch(deployment.spec().runtime(),
        socketDir("d" + deployment.id() + "r" + replica.index() + "a" + attempt)));
  }

  /** A folder name not taken yet: runtimes adopted from a previous run keep their folders. */
  private Path socketDir(String name) {
    Path dir = workDir.resolve(name);
    for (int n = 1; Files.exists(dir, LinkOption.NOFOLLOW_LINKS); n++) {
      dir = workDir.resolve(name + "-" + n);
    }
    return dir;
  }

  private Replica.Runtime start(Deployment deployment, Replica replica, Launch launch)
      throws StartFailure, InterruptedException {
    Instant deadline = Instant.now().plus(deployTimeout);
    RunningSidecar sidecar = null;
    try {
      deployment.reach(DeploymentState.STARTING);
      try {
        sidecar = launch.get();
      } catch (IOException e) {
        // The launcher could not start it (e.g. Docker is away): not the model's fault.
        throw new StartFailure(e.getMessage(), List.of(), e, true);
      }
      SidecarClient client = transport.connect(deployment.name(), sidecar.socketPaths());
      Replica.Runtime runtime = new Replica.Runtime(sidecar, client);
      if (!deployment.attach(replica, runtime)) { // undeployed while launching
        client.closeNow();
        sidecar.stop();
        throw new StartFailure("the deployment ended while its runtime started", List.of(),
            null);
      }
      RunningSidecar launched = sidecar;
      waitUntil(deployment, launched, deadline, "the runtime to listen on its sockets",
          () -> launched.socketPaths().stream().allMatch(SocketProbe::accepts));
      deployment.reach(DeploymentState.LOADING);
      waitUntil(deployment, launched, deadline, "the model to load", () -> isServing(client));
      deployment.reach(DeploymentState.VALIDATING);
      validate(deployment, replica, client, deadline);
      return runtime;
    } catch (InterruptedException e) {
      stopAfterFailure(deployment, replica, sidecar);
      throw e;
    } catch (StartFailure e) {
      stopAfterFailure(deployment, replica, sidecar);
      throw e;
    } catch (Exception e) {
      List<String> logs = sidecar == null ? List.of() : sidecar.logTail(LOG_LINES);
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      // The runtime ended while we waited: its exit (code, OOM) is the real reason.
      Integer code = sidecar == null ? null : exitCodeSoon(sidecar);
      boolean killed = false;
      if (code != null) {
        reason = sidecar.describeExit(code);
        killed = sidecar.killedFromOutside(code);
      }
      stopAfterFailure(deployment, replica, sidecar);
      throw new StartFailure(reason, logs, e, killed);
    }
  }

  /** A runtime killed by the validation input fails the call a moment before its exit shows. */
  private static Integer exitCodeSoon(RunningSidecar sidecar) {
    try {
      return sidecar.onExit().get(EXIT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void stopAfterFailure(Deployment deployment, Replica replica,
      RunningSidecar sidecar) {
    deployment.replicaDown(replica, "start failed", List.of());
    if (sidecar != null) {
      sidecar.stop();
    }
  }

  private void validate(Deployment deployment, Replica replica, SidecarClient client,
      Instant deadline) throws TimeoutException, InterruptedException {
    // The first call after the load: a runtime this gateway cannot talk to ends here, for good.
    RuntimeMetadata metadata = SidecarProtocol.metadata(client, deployment.name(),
        deployment.version(), remaining(deadline));
    if (metadata.kind() == PayloadKind.UNSPECIFIED) {
      throw new GatewayException(ErrorKind.INTERNAL,
          "the runtime of model '" + deployment.name() + "' reported no payload kind");
    }
    deployment.setKind(metadata.kind());
    deployment.setMetadata(metadata);
    Payload input = client.validationInput(remaining(deadline));
    // Each runtime worker loaded the model itself: each is checked. Idle workers take calls in
    // turns, and nothing else calls this runtime before it is ready.
    for (int i = 0; i < client.workers(); i++) {
      validateOnce(deployment, replica, client, input, deadline);
    }
  }

  private void validateOnce(Deployment deployment, Replica replica, SidecarClient client,
      Payload input, Instant deadline) throws TimeoutException, InterruptedException {
    Duration left = remaining(deadline);
    Payload output;
    try {
      CompletableFuture<Payload> answer = deployment.predictOn(replica, input, left);
      if (answer == null) {
        throw new GatewayException(ErrorKind.UNAVAILABLE, "the runtime went away");
      }
      output = answer.get(left.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof CompletionException c ? c.getCause() : e.getCause();
      throw new GatewayException(ErrorKind.INTERNAL,
          "validation input failed in predict: " + cause.getMessage(), cause);
    }
    ValidationResult result = client.checkValidationOutput(output, remaining(deadline));
    if (!result.passed()) {
      throw new GatewayException(ErrorKind.INTERNAL, "validation failed: " + result.diff());
    }
  }

  private static boolean isServing(SidecarClient client) {
    try {
      return client.health(HEALTH_CALL) == RuntimeHealth.SERVING;
    } catch (GatewayException e) {
      // Not answering yet is expected while the runtime starts; anything else is a failure.
      if (e.kind() == ErrorKind.UNAVAILABLE || e.kind() == ErrorKind.DEADLINE_EXCEEDED) {
        return false;
      }
      throw e;
    }
  }

  private void waitUntil(Deployment deployment, RunningSidecar sidecar, Instant deadline,
      String what, BooleanSupplier condition) throws TimeoutException, InterruptedException {
    while (!deployment.state().isTerminal()) {
      if (sidecar.onExit().isDone()) {
        throw new IllegalStateException(sidecar.describeExit(sidecar.onExit().join()));
      }
      if (condition.getAsBoolean()) {
        return;
      }
      if (Instant.now().isAfter(deadline)) {
        throw timeout(what);
      }
      Thread.sleep(POLL.toMillis());
    }
    throw new IllegalStateException("model '" + deployment.name() + "' ended while waiting for "
        + what + ": " + deployment.state());
  }

  private Duration remaining(Instant deadline) throws TimeoutException {
    Duration left = Duration.between(Instant.now(), deadline);
    if (left.isNegative() || left.isZero()) {
      throw timeout("validation");
    }
    return left;
  }

  private TimeoutException timeout(String what) {
    return new TimeoutException("deploy did not finish within " + deployTimeout.toMillis()
        + " ms: still waiting for " + what);
  }
}
