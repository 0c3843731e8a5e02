package io.pyml.gateway.frontend.health;

import io.grpc.BindableService;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.Readiness;
import java.util.HashSet;
import java.util.Set;

/**
 * The gateway's readiness as every front end reports it: {@code /readyz} on the HTTP port, the
 * standard gRPC health service (grpc.health.v1) on the gRPC and OIP ports, OIP's ServerReady.
 * One source, {@link DeploymentManager#readiness()}, so they cannot disagree.
 *
 * <p>gRPC health services: {@code ""} is the gateway (SERVING exactly when {@code /readyz} says
 * 200), and {@link #MODEL_SERVICE_PREFIX}{@code <name>} each deployed model (SERVING when its
 * live deployment is READY). An undeployed model's service is cleared: Check answers NOT_FOUND
 * and Watch SERVICE_UNKNOWN, as for any service the server does not know. The prefix keeps
 * model names, which may contain dots, apart from gRPC service names.
 */
public final class GatewayHealth {
  public static final String MODEL_SERVICE_PREFIX = "pyml.model/";

  private final DeploymentManager deployments;
  private final HealthStatusManager grpc = new HealthStatusManager();
  private volatile boolean stopping; // set once
  private final Set<String> modelServices = new HashSet<>(); // guarded by this

  private GatewayHealth(DeploymentManager deployments) {
    this.deployments = deployments;
  }

  /** Follows {@code deployments} from now on: each change reaches the gRPC health service. */
  public static GatewayHealth following(DeploymentManager deployments) {
    GatewayHealth health = new GatewayHealth(deployments);
    deployments.onReadinessChange(health::refresh);
    return health;
  }

  /** What /readyz and ServerReady answer now. */
  public Readiness readiness() {
    Readiness now = deployments.readiness();
    return stopping ? now.whileStopping() : now;
  }

  /** The grpc.health.v1 service, for the gRPC and OIP servers (one state for both). */
  public BindableService grpcService() {
    return grpc.getHealthService();
  }

  /**
   * The gateway is shutting down: not ready from now on, on every port, whatever the
   * models' states, so load balancers send calls elsewhere while it drains.
   */
  public void stopping() {
    stopping = true;
    synchronized (this) {
      grpc.enterTerminalState(); // NOT_SERVING for every service; later sets are ignored
    }
  }

  /**
   * Sets every service's status from the readiness read now. Synchronized, and reading inside:
   * whichever change runs last sets the latest states, however calls interleave.
   */
  private synchronized void refresh() {
    Readiness now = readiness();
    grpc.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status(now.ready()));
    Set<String> gone = new HashSet<>(modelServices);
    modelServices.clear();
    for (Readiness.ModelReadiness model : now.models()) {
      String service = MODEL_SERVICE_PREFIX + model.name();
      grpc.setStatus(service, status(model.ready()));
      modelServices.add(service);
      gone.remove(service);
    }
    gone.forEach(grpc::clearStatus);
  }

  private static ServingStatus status(boolean serving) {
    return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }
}
