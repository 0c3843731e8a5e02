package io.pyml.gateway.dispatch;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.metrics.GatewayMetrics;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The protocol-agnostic prediction path: route to the live deployment, refuse what cannot
 * succeed (unknown model or version, not READY, wrong payload kind, too large), apply the
 * deadline, forward the payload untouched. Every front end calls this, so limits and errors
 * are the same whatever the protocol.
 */
public final class Dispatcher {
  /**
   * A deployment replaced or undeployed between routing and the call refuses the call, and it
   * is routed again: its successor is live by then. More than one swap in that instant is rare.
   */
  private static final int ROUTE_ATTEMPTS = 3;

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
      check(call);
      String requestId = call.requestId().isEmpty() ? UUID.randomUUID().toString()
          : call.requestId();
      for (int attempt = 0; attempt < ROUTE_ATTEMPTS; attempt++) {
        Deployment deployment = live(call);
        Optional<CompletableFuture<Payload>> answer =
            deployment.predict(call.payload(), timeout(call));
        if (answer.isPresent()) {
          return answer.get().thenApply(output ->
              new PredictResult(deployment.name(), deployment.version(), output, requestId));
        }
      }
      throw new GatewayException(ErrorKind.UNAVAILABLE, "model '" + call.modelName()
          + "' was replaced " + ROUTE_ATTEMPTS + " times while this request was routed");
    } catch (GatewayException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** What is wrong with the request whatever is deployed. */
  private void check(PredictCall call) {
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
  }

  /** The live deployment, if it is the version asked for; it checks the rest itself. */
  private Deployment live(PredictCall call) {
    String name = call.modelName();
    Deployment deployment = deployments.route(name).orElseThrow(() ->
        new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' is not deployed"));
    if (call.version().isPresent() && call.version().getAsLong() != deployment.version()) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' version "
          + call.version().getAsLong() + " is not deployed (live version: "
          + deployment.version() + ")");
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
