package io.pyml.gateway.dispatch;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.deployment.DeployRules;
import io.pyml.gateway.deployment.DeploySpec;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.AuditEntry;
import io.pyml.gateway.identity.Caller;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.identity.Permission;
import io.pyml.gateway.metrics.GatewayMetrics;
import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The gateway's one data plane: predict, a model's readiness and description, and the
 * deployments (list, get, deploy, undeploy). Every front end (gRPC Predict and Admin, Thrift,
 * OIP, HTTP) calls these with the call's credentials and only translates its protocol to and
 * from them: here alone the caller, its permission, a model, its version and its readiness are
 * resolved and every error about them is built, so a case means the same on every protocol
 * (ConformanceTest runs one table of cases over all of them). Permission comes first, so a
 * caller who may not use a model learns nothing of it, not even whether it exists.
 */
public final class DataPlane {
  /**
   * A deployment replaced or undeployed between routing and the call refuses the call, and it
   * is routed again: its successor is live by then. More than one swap in that instant is rare.
   */
  private static final int ROUTE_ATTEMPTS = 3;

  private final DeploymentManager deployments;
  private final DeployRules rules;
  private final Access access;
  private final int maxPayloadBytes;
  private final Duration defaultDeadline;
  private final GatewayMetrics metrics;
  private final AccessLog accessLog;

  public DataPlane(DeploymentManager deployments, DeployRules rules, Access access,
      int maxPayloadBytes, Duration defaultDeadline, GatewayMetrics metrics,
      AccessLog accessLog) {
    this.accessLog = accessLog;
    this.deployments = deployments;
    this.rules = rules;
    this.access = access;
    this.metrics = metrics;
    this.maxPayloadBytes = maxPayloadBytes;
    this.defaultDeadline = defaultDeadline;
  }

  /** A model as it serves now: its live, READY deployment and what its runtime said of it. */
  public record ServedModel(String name, long version, PayloadKind kind,
      RuntimeMetadata metadata) {}

  // --- predict ---------------------------------------------------------------------------

  /** Completes with the result, or exceptionally with a {@link GatewayException}. */
  public CompletableFuture<PredictResult> predict(PredictCall call) {
    String requestId = call.requestId().isEmpty() ? UUID.randomUUID().toString()
        : call.requestId();
    AccessLog.Entry logged = accessLog.start(call, requestId);
    // One lookup serves the metrics' label (known model or not) and the first attempt.
    Optional<Deployment> routed = deployments.route(call.modelName());
    return accessLog.record(logged, metrics.track(call.modelName(), routed.isPresent(),
        route(call, requestId, routed, logged)));
  }

  /**
   * A prediction request a front end refused before {@link #predict} (OIP and V2 REST resolve
   * the model and check the tensors first), logged as predict logs its calls; returns
   * {@code error}.
   */
  public GatewayException refused(PredictCall call, GatewayException error) {
    accessLog.record(accessLog.start(call, call.requestId().isEmpty() ? "-" : call.requestId()),
        CompletableFuture.failedFuture(error));
    return error;
  }

  private CompletableFuture<PredictResult> route(PredictCall call, String requestId,
      Optional<Deployment> routed, AccessLog.Entry logged) {
    try {
      logged.caller(check(call).identity());
      for (int attempt = 0; attempt < ROUTE_ATTEMPTS; attempt++) {
        Deployment deployment = live(call.modelName(), call.version(),
            attempt == 0 ? routed : deployments.route(call.modelName()));
        logged.routedTo(deployment.version());
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

  /**
   * What is wrong with the request whatever is deployed, the caller's permission first; the
   * caller when nothing is.
   */
  private Caller check(PredictCall call) {
    String name = call.modelName();
    if (name.isEmpty()) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model_name is empty");
    }
    Caller caller = access.require(call.credentials(), "predict", name,
        call.version().orElse(0), Permission.PREDICT);
    if (call.payload() == null) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "the request for model '" + name + "' has no payload");
    }
    int size = call.payload().sizeBytes();
    if (size > maxPayloadBytes) {
      throw new GatewayException(ErrorKind.RESOURCE_EXHAUSTED, "payload of " + size
          + " bytes for model '" + name + "' is over the gateway's limit of " + maxPayloadBytes
          + " bytes");
    }
    return caller;
  }

  /** The client's deadline, but never longer than the gateway's default. */
  private Duration timeout(PredictCall call) {
    return call.clientTimeout()
        .filter(client -> client.compareTo(defaultDeadline) < 0)
        .orElse(defaultDeadline);
  }

  // --- models ----------------------------------------------------------------------------

  /** The model serving now under {@code name} (and {@code version}, if given); or the error. */
  public ServedModel served(Credentials credentials, String name, OptionalLong version) {
    access.require(credentials, "metadata", name, version.orElse(0), Permission.PREDICT);
    return served(name, version);
  }

  private ServedModel served(String name, OptionalLong version) {
    Deployment deployment = live(name, version, deployments.route(name));
    Optional<RuntimeMetadata> metadata = deployment.metadata();
    if (deployment.state() != DeploymentState.READY || metadata.isEmpty()) {
      throw deployment.notReady();
    }
    return new ServedModel(deployment.name(), deployment.version(), deployment.kind(),
        metadata.get());
  }

  /**
   * Whether {@link #served} answers: the model (and version) is deployed and READY. A caller
   * who may not use the model gets the refusal, not false.
   */
  public boolean ready(Credentials credentials, String name, OptionalLong version) {
    access.require(credentials, "ready", name, version.orElse(0), Permission.PREDICT);
    try {
      served(name, version);
      return true;
    } catch (GatewayException e) {
      return false;
    }
  }

  /** {@code routed}, the live deployment of {@code name}, if it is the version asked for. */
  private static Deployment live(String name, OptionalLong version,
      Optional<Deployment> routed) {
    Deployment deployment = routed.orElseThrow(() -> notDeployed(name));
    if (version.isPresent() && version.getAsLong() != deployment.version()) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' version "
          + version.getAsLong() + " is not deployed (live version: " + deployment.version()
          + ")");
    }
    return deployment;
  }

  private static GatewayException notDeployed(String name) {
    return new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' is not deployed");
  }

  // --- deployments -----------------------------------------------------------------------

  /** The deployments of the models the caller may predict with. */
  public List<DeploymentView> deployments(Credentials credentials) {
    Caller caller = access.caller(credentials, "list-deployments");
    return deployments.list().stream().map(Deployment::view)
        .filter(view -> access.may(caller, view.name(), Permission.PREDICT)).toList();
  }

  /** The deployment named so, whatever its state; NOT_FOUND when there is none. */
  public DeploymentView deployment(Credentials credentials, String name) {
    access.require(credentials, "get-deployment", name, 0, Permission.PREDICT);
    return deployments.find(name).map(Deployment::view).orElseThrow(() -> notDeployed(name));
  }

  /**
   * Deploys (or swaps to) a version, for a caller with {@code deploy} on the model (a home
   * folder: a gateway admin's, on a gateway started with the development flag); with
   * {@code wait}, completes once it is READY and routed (the lifecycle itself is bounded by the
   * deploy timeout, so this ends), else at once. Recorded in the audit log with its outcome.
   */
  public CompletableFuture<DeploymentView> deploy(Credentials credentials, String name,
      long version, String homePath, int replicas, ResourceLimits limits, boolean wait) {
    Caller caller = access.require(credentials, "deploy", name, version, Permission.DEPLOY);
    if (!homePath.isEmpty()) {
      access.checkGatewayAdmin(caller, "deploying a home folder", name);
    }
    Deployment deployment;
    try {
      deployment = deployments.deploy(
          DeploySpec.of(name, version, homePath, replicas, limits, rules));
    } catch (GatewayException e) {
      access.recordAction(caller, "deploy", name, version, AuditEntry.FAILED, e.getMessage());
      metrics.deployed(name, e.kind().name());
      throw e;
    }
    // Counted once it settles, READY or FAILED, whether or not the caller waits for it.
    deployment.settled().whenComplete((view, error) -> metrics.deployed(name,
        error != null ? GatewayMetrics.outcome(error) : view.state().name()));
    CompletableFuture<DeploymentView> outcome = wait ? deployments.settledAndRouted(deployment)
        : CompletableFuture.completedFuture(deployment.view());
    return outcome.whenComplete((view, error) -> access.recordAction(caller, "deploy", name,
        deployment.version(), error == null && view.state() != DeploymentState.FAILED
            ? AuditEntry.OK : AuditEntry.FAILED,
        error != null ? String.valueOf(error.getMessage())
            : (homePath.isEmpty() ? "" : "home folder " + homePath + "; ") + view.state()
                + (view.reason().isEmpty() ? "" : ": " + view.reason())));
  }

  /** Stops and forgets a deployment: a caller with {@code deploy} on the model. */
  public CompletableFuture<Void> undeploy(Credentials credentials, String name) {
    Caller caller = access.require(credentials, "undeploy", name, 0, Permission.DEPLOY);
    return deployments.undeploy(name).whenComplete((done, error) -> access.recordAction(caller,
        "undeploy", name, 0, error == null ? AuditEntry.OK : AuditEntry.FAILED,
        error == null ? "" : String.valueOf(error.getMessage())));
  }

  /** Who may do what: the admin API's tokens, grants and audit log go straight to it. */
  public Access access() {
    return access;
  }
}
