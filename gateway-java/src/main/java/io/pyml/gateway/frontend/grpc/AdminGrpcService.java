package io.pyml.gateway.frontend.grpc;

import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.Caller;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.identity.Permission;
import io.pyml.gateway.frontend.transport.CallerCredentials;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.CreateTokenRequest;
import io.pyml.proto.v1.CreateTokenResponse;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.GetDeploymentRequest;
import io.pyml.proto.v1.GrantInfo;
import io.pyml.proto.v1.GrantRequest;
import io.pyml.proto.v1.ListAuditRequest;
import io.pyml.proto.v1.ListAuditResponse;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.ListDeploymentsResponse;
import io.pyml.proto.v1.ListGrantsRequest;
import io.pyml.proto.v1.ListGrantsResponse;
import io.pyml.proto.v1.ListTokensRequest;
import io.pyml.proto.v1.ListTokensResponse;
import io.pyml.proto.v1.RevokeGrantRequest;
import io.pyml.proto.v1.RevokeGrantResponse;
import io.pyml.proto.v1.RevokeTokenRequest;
import io.pyml.proto.v1.RevokeTokenResponse;
import io.pyml.proto.v1.UndeployRequest;
import io.pyml.proto.v1.UndeployResponse;
import io.pyml.proto.v1.WhoAmIRequest;
import io.pyml.proto.v1.WhoAmIResponse;

/** The admin API: its messages to and from the data plane's calls. Nothing else. */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
  private static final int DEFAULT_AUDIT_LINES = 100;

  private final DataPlane plane;
  private final Access access;

  public AdminGrpcService(DataPlane plane) {
    this.plane = plane;
    this.access = plane.access();
  }

  private static Credentials credentials() {
    return CallerCredentials.current();
  }

  @Override
  public void deploy(DeployRequest request, StreamObserver<io.pyml.proto.v1.Deployment> response) {
    GrpcReplies.answer(response, () -> plane.deploy(credentials(), request.getModelName(),
        request.getModelVersion(), request.getHomePath(), request.getReplicas(),
        ProtoConverters.fromProto(request.getResources()), request.getWait()),
        ProtoConverters::toProto);
  }

  @Override
  public void undeploy(UndeployRequest request, StreamObserver<UndeployResponse> response) {
    GrpcReplies.answer(response, () -> plane.undeploy(credentials(), request.getModelName()),
        done -> UndeployResponse.getDefaultInstance());
  }

  @Override
  public void listDeployments(ListDeploymentsRequest request,
      StreamObserver<ListDeploymentsResponse> response) {
    GrpcReplies.reply(response, () -> ListDeploymentsResponse.newBuilder()
        .addAllDeployments(plane.deployments(credentials()).stream()
            .map(ProtoConverters::toProto).toList())
        .build());
  }

  @Override
  public void getDeployment(GetDeploymentRequest request,
      StreamObserver<io.pyml.proto.v1.Deployment> response) {
    GrpcReplies.reply(response, () -> ProtoConverters.toProto(
        plane.deployment(credentials(), request.getModelName())));
  }

  @Override
  public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> response) {
    GrpcReplies.reply(response, () -> {
      Caller caller = access.whoAmI(credentials());
      return WhoAmIResponse.newBuilder().setIdentity(caller.identity())
          .setGatewayAdmin(caller.gatewayAdmin()).setAuthentication(access.enabled()).build();
    });
  }

  @Override
  public void createToken(CreateTokenRequest request,
      StreamObserver<CreateTokenResponse> response) {
    GrpcReplies.reply(response, () -> {
      var issued = access.createToken(credentials(), request.getIdentity(),
          request.getGatewayAdmin());
      return CreateTokenResponse.newBuilder().setToken(issued.token())
          .setInfo(IdentityProtos.toProto(issued.info())).build();
    });
  }

  @Override
  public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> response) {
    GrpcReplies.reply(response, () -> ListTokensResponse.newBuilder()
        .addAllTokens(access.tokens(credentials()).stream().map(IdentityProtos::toProto)
            .toList()).build());
  }

  @Override
  public void revokeToken(RevokeTokenRequest request,
      StreamObserver<RevokeTokenResponse> response) {
    GrpcReplies.reply(response, () -> {
      access.revokeToken(credentials(), request.getId());
      return RevokeTokenResponse.getDefaultInstance();
    });
  }

  @Override
  public void grant(GrantRequest request, StreamObserver<GrantInfo> response) {
    GrpcReplies.reply(response, () -> IdentityProtos.toProto(access.grant(credentials(),
        request.getModelName(), request.getIdentity(), permission(request.getPermission()))));
  }

  @Override
  public void revokeGrant(RevokeGrantRequest request,
      StreamObserver<RevokeGrantResponse> response) {
    GrpcReplies.reply(response, () -> {
      access.revokeGrant(credentials(), request.getModelName(), request.getIdentity());
      return RevokeGrantResponse.getDefaultInstance();
    });
  }

  @Override
  public void listGrants(ListGrantsRequest request, StreamObserver<ListGrantsResponse> response) {
    GrpcReplies.reply(response, () -> ListGrantsResponse.newBuilder()
        .addAllGrants(access.grants(credentials(), request.getModelName()).stream()
            .map(IdentityProtos::toProto).toList()).build());
  }

  @Override
  public void listAudit(ListAuditRequest request, StreamObserver<ListAuditResponse> response) {
    int limit = request.getLimit() > 0 ? request.getLimit() : DEFAULT_AUDIT_LINES;
    GrpcReplies.reply(response, () -> ListAuditResponse.newBuilder()
        .addAllEntries(access.audit(credentials(), request.getModelName(), limit).stream()
            .map(IdentityProtos::toProto).toList()).build());
  }

  private static Permission permission(String name) {
    return Permission.parse(name).orElseThrow(() -> new GatewayException(
        ErrorKind.INVALID_INPUT, "permission '" + name + "' is not one of predict, deploy, admin"));
  }
}
