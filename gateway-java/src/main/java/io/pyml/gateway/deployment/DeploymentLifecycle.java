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
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.sidecar.SocketProbe;
import io.pyml.gateway.sidecar.ValidationResult;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Takes one deployment from PENDING to READY: launch the runtime, wait for its socket, wait for
 * the model to load, then prove it with the validation data sent through the real Predict path.
 * Any failure ends in FAILED with the reason and the runtime's last log lines.
 */
final class DeploymentLifecycle {
  static final int LOG_LINES = 20;
  private static final Duration POLL = Duration.ofMillis(50);
  private static final Duration HEALTH_CALL = Duration.ofSeconds(1);

  private final SidecarLauncher launcher;
  private final SidecarTransport transport;
  private final Path workDir;
  private final Duration deployTimeout;

  DeploymentLifecycle(SidecarLauncher launcher, SidecarTransport transport, Path workDir,
      Duration deployTimeout) {
    this.launcher = launcher;
    this.transport = transport;
    this.workDir = workDir;
    this.deployTimeout = deployTimeout;
  }

  /** Runs the whole lifecycle on the calling thread; never throws. */
  void run(Deployment deployment) {
    Instant deadline = Instant.now().plus(deployTimeout);
    RunningSidecar sidecar = null;
    try {
      deployment.advance(DeploymentState.STARTING);
      sidecar = launcher.launch(deployment.name(), deployment.version(), deployment.home(),
          workDir.resolve("d" + deployment.id()));
      SidecarClient client = transport.connect(deployment.name(), sidecar.socketPath());
      if (!deployment.attach(sidecar, client)) { // undeployed while launching
        client.closeNow();
        sidecar.stop();
        return;
      }
      RunningSidecar launched = sidecar;
      sidecar.onExit().thenAccept(code -> onExit(deployment, launched, code));
      waitUntil(deployment, deadline, "the runtime to listen on its socket",
          () -> SocketProbe.accepts(launched.socketPath()));
      deployment.advance(DeploymentState.LOADING);
      waitUntil(deployment, deadline, "the model to load", () -> isServing(client));
      deployment.advance(DeploymentState.VALIDATING);
      validate(deployment, client, deadline);
      deployment.advance(DeploymentState.READY);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(deployment, sidecar, "deploy interrupted (the gateway is stopping)");
    } catch (Exception e) {
      // Also IllegalStateException from a refused move: then the deployment already ended
      // (runtime exited, undeployed) and fail() below changes nothing.
      fail(deployment, sidecar, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  private void validate(Deployment deployment, SidecarClient client, Instant deadline)
      throws TimeoutException, InterruptedException {
    RuntimeMetadata metadata = client.metadata(remaining(deadline));
    if (metadata.kind() == PayloadKind.UNSPECIFIED) {
      throw new GatewayException(ErrorKind.INTERNAL,
          "the runtime of model '" + deployment.name() + "' reported no payload kind");
    }
    deployment.setKind(metadata.kind());
    deployment.setMetadata(metadata);
    Payload input = client.validationInput(remaining(deadline));
    Duration left = remaining(deadline);
    Payload output;
    try {
      output = deployment.predict(input, left).get(left.toMillis() + 1000, TimeUnit.MILLISECONDS);
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

  private void waitUntil(Deployment deployment, Instant deadline, String what,
      BooleanSupplier condition) throws TimeoutException, InterruptedException {
    while (!deployment.state().isTerminal()) {
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

  /** The runtime ended: leave READY (or any state) at once and fail in-flight calls now. */
  private static void onExit(Deployment deployment, RunningSidecar sidecar, int code) {
    if (deployment.fail("runtime process exited with code " + code, sidecar.logTail(LOG_LINES))) {
      deployment.release(false);
    }
  }

  private static void fail(Deployment deployment, RunningSidecar sidecar, String reason) {
    List<String> logs = sidecar == null ? List.of() : sidecar.logTail(LOG_LINES);
    if (deployment.fail(reason, logs)) {
      deployment.release(false);
    }
  }
}
