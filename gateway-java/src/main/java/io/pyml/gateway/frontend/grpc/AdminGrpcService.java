package io.pyml.gateway.frontend.grpc;

import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.deployment.DeployRules;
import io.pyml.gateway.deployment.DeploySpec;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.GetDeploymentRequest;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.ListDeploymentsResponse;
import io.pyml.proto.v1.UndeployRequest;
import io.pyml.proto.v1.UndeployResponse;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/** The admin API: thin calls into the deployment manager. */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
  private final DeploymentManager deployments;
  private final DeployRules rules;

  public AdminGrpcService(DeploymentManager deployments, DeployRules rules) {
    this.deployments = deployments;
    this.rules = rules;
  }

  @Override
  public void deploy(DeployRequest request, StreamObserver<io.pyml.proto.v1.Deployment> response) {
    answer(response, () -> {
      Deployment deployment = deployments.deploy(DeploySpec.of(request.getModelName(),
          request.getModelVersion(), request.getHomePath(), request.getReplicas(),
          ProtoConverters.fromProto(request.getResources()), rules));
      // The lifecycle itself is bounded by the deploy timeout, so this wait ends.
      return request.getWait() ? deployments.settledAndRouted(deployment)
          : CompletableFuture.completedFuture(deployment.view());
    }, ProtoConverters::toProto);
  }

  @Override
  public void undeploy(UndeployRequest request, StreamObserver<UndeployResponse> response) {
    answer(response, () -> deployments.undeploy(request.getModelName()),
        done -> UndeployResponse.getDefaultInstance());
  }

  @Override
  public void listDeployments(ListDeploymentsRequest request,
      StreamObserver<ListDeploymentsResponse> response) {
    ListDeploymentsResponse.Builder list = ListDeploymentsResponse.newBuilder();
    deployments.list().forEach(d -> list.addDeployments(ProtoConverters.toProto(d.view())));
    response.onNext(list.build());
    response.onCompleted();
  }

  @Override
  public void getDeployment(GetDeploymentRequest request,
      StreamObserver<io.pyml.proto.v1.Deployment> response) {
    answer(response, () -> CompletableFuture.completedFuture(
        deployments.find(request.getModelName()).map(Deployment::view).orElseThrow(() ->
            new GatewayException(ErrorKind.NOT_FOUND,
                "model '" + request.getModelName() + "' is not deployed"))),
        ProtoConverters::toProto);
  }

  /** Runs an admin action and answers with its result or its error, never both. */
  private static <T, R> void answer(StreamObserver<R> response,
      Supplier<CompletableFuture<T>> action,
      Function<T, R> convert) {
    CompletableFuture<T> future;
    try {
      future = action.get();
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e));
      return;
    }
    future.whenComplete((value, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error));
      } else {
        response.onNext(convert.apply(value));
        response.onCompleted();
      }
    });
  }
}
