package io.pyml.gateway.frontend.grpc;

import io.grpc.stub.StreamObserver;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.GetDeploymentRequest;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.ListDeploymentsResponse;
import io.pyml.proto.v1.UndeployRequest;
import io.pyml.proto.v1.UndeployResponse;

/** The admin API: its messages to and from the data plane's calls. Nothing else. */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
  private final DataPlane plane;

  public AdminGrpcService(DataPlane plane) {
    this.plane = plane;
  }

  @Override
  public void deploy(DeployRequest request, StreamObserver<io.pyml.proto.v1.Deployment> response) {
    GrpcReplies.answer(response, () -> plane.deploy(request.getModelName(),
        request.getModelVersion(), request.getHomePath(), request.getReplicas(),
        ProtoConverters.fromProto(request.getResources()), request.getWait()),
        ProtoConverters::toProto);
  }

  @Override
  public void undeploy(UndeployRequest request, StreamObserver<UndeployResponse> response) {
    GrpcReplies.answer(response, () -> plane.undeploy(request.getModelName()),
        done -> UndeployResponse.getDefaultInstance());
  }

  @Override
  public void listDeployments(ListDeploymentsRequest request,
      StreamObserver<ListDeploymentsResponse> response) {
    GrpcReplies.reply(response, () -> ListDeploymentsResponse.newBuilder()
        .addAllDeployments(plane.deployments().stream().map(ProtoConverters::toProto).toList())
        .build());
  }

  @Override
  public void getDeployment(GetDeploymentRequest request,
      StreamObserver<io.pyml.proto.v1.Deployment> response) {
    GrpcReplies.reply(response,
        () -> ProtoConverters.toProto(plane.deployment(request.getModelName())));
  }
}
