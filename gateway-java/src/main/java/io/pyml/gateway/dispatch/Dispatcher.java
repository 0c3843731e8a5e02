package io.pyml.gateway.dispatch;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.metrics.GatewayMetrics;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The protocol-agnostic prediction path: route to the live deployment, refuse what cannot
 * succeed (unknown model or version, not READY, wrong payload kind, too large), apply the
 * deadline, forward the payload untouched. Every front end calls this, so limits and errors
 * are the same whatever the protocol.
 */
public final class Dispatcher {
  private final DeploymentManager deployments;
  private final int maxPayloadBytes;
  private final Duration defaultDeadline;
  private final GatewayMetrics metrics;

  public Dispatcher(DeploymentManager deployments, int maxPayloadBytes, Duration defaultDeadline,
      GatewayMetrics metrics) {
    this.deployments = deployments;
    this.metrics = metrics;
    this.maxPayloadBytes = maxPayloadBytes;
    this.defaultDeadline = defaultDeadline;
  }

  /** Completes with the result, or exceptionally with a {@link GatewayException}. */
  public CompletableFuture<PredictResult> predict(PredictCall call) {
    boolean known = deployments.route(call.modelName()).isPresent();
    return metrics.track(call.modelName(), known, route(call));
  }

  private CompletableFuture<PredictResult> route(PredictCall call) {
    try {
      Deployment deployment = check(call);
      String requestId = call.requestId().isEmpty() ? UUID.randomUUID().toString()
          : call.requestId();
      return deployment.predict(call.payload(), timeout(call)).thenApply(output ->
          new PredictResult(deployment.name(), deployment.version(), output, requestId));
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Deployment check(PredictCall call) {
    String name = call.modelName();
    if (name.isEmpty()) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model_name is empty");
    }
    if (call.payload() == null) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "the request for model '" + name + "' has no payload");
    }
    int size = call.payload().sizeBytes();
    if (size > maxPayloadBytes) {
      throw new GatewayException(ErrorKind.RESOURCE_EXHAUSTED, "payload of " + size
          + " bytes is over the gateway's limit of " + maxPayloadBytes + " bytes");
    }
    Deployment deployment = deployments.route(name).orElseThrow(() ->
        new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' is not deployed"));
    if (call.version().isPresent() && call.version().getAsLong() != deployment.version()) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' version "
          + call.version().getAsLong() + " is not deployed (live version: "
          + deployment.version() + ")");
    }
    DeploymentState state = deployment.state();
    if (state != DeploymentState.READY) {
      String reason = deployment.reason();
      throw new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name + "' is not ready: "
          + state + (reason.isEmpty() ? "" : " (" + reason + ")"));
    }
    PayloadKind expected = deployment.kind();
    if (call.payload().kind() != expected) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model '" + name + "' takes a "
          + expected + " payload, got " + call.payload().kind());
    }
    return deployment;
  }

  /** The client's deadline, but never longer than the gateway's default. */
  private Duration timeout(PredictCall call) {
    return call.clientTimeout()
        .filter(client -> client.compareTo(defaultDeadline) < 0)
        .orElse(defaultDeadline);
  }
}
