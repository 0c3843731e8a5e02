package io.pyml.gateway.frontend.grpc;

import io.grpc.Deadline;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.dispatch.PredictCall;
import io.pyml.gateway.frontend.transport.CallerCredentials;
import io.pyml.gateway.dispatch.PredictResult;
import io.pyml.gateway.dispatch.Protocol;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/** The only place the client API's generated classes meet the gateway's domain types. */
final class ProtoConverters {
  private ProtoConverters() {}

  static PredictCall toCall(PredictRequest request, Deadline deadline) {
    return new PredictCall(
        request.getModelName(),
        request.hasModelVersion() ? OptionalLong.of(request.getModelVersion())
            : OptionalLong.empty(),
        request.hasPayload() ? fromProto(request.getPayload()) : null,
        request.getRequestId(),
        Optional.ofNullable(deadline)
            .map(d -> Duration.ofNanos(d.timeRemaining(TimeUnit.NANOSECONDS))),
        CallerCredentials.current(), Protocol.GRPC);
  }

  static PredictResponse toProto(PredictResult result) {
    return PredictResponse.newBuilder()
        .setModelName(result.modelName())
        .setModelVersion(result.modelVersion())
        .setPayload(toProto(result.payload()))
        .setRequestId(result.requestId())
        .build();
  }

  static io.pyml.proto.v1.Deployment toProto(DeploymentView view) {
    return io.pyml.proto.v1.Deployment.newBuilder()
        .setModelName(view.name())
        .setModelVersion(view.version())
        .setState(toProto(view.state()))
        .setReason(view.reason())
        .addAllLastLogLines(view.lastLogLines())
        .setKind(toProto(view.kind()))
        .setHomePath(view.homePath())
        .setStateChangedAtMs(view.stateChangedAt().toEpochMilli())
        .setReplicas(view.replicas())
        .setReadyReplicas(view.readyReplicas())
        .setRestarts(view.restarts())
        .setImage(view.image())
        .setReadySinceMs(view.readySince().map(Instant::toEpochMilli).orElse(0L))
        .build();
  }

  /** Unset fields (0) take the gateway's defaults; negative or too small ones are refused. */
  static ResourceLimits fromProto(io.pyml.proto.v1.Resources resources) {
    try {
      return new ResourceLimits(resources.getMemoryBytes(), resources.getCpus(),
          resources.getPids());
    } catch (IllegalArgumentException e) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, e.getMessage());
    }
  }

  static Payload fromProto(io.pyml.proto.v1.Payload payload) {
    PayloadKind kind = switch (payload.getKind()) {
      case PAYLOAD_KIND_DATAFRAME -> PayloadKind.DATAFRAME;
      case PAYLOAD_KIND_TENSORS -> PayloadKind.TENSORS;
      default -> PayloadKind.UNSPECIFIED;
    };
    return new Payload(kind, payload.getArrowIpc());
  }

  static io.pyml.proto.v1.Payload toProto(Payload payload) {
    return io.pyml.proto.v1.Payload.newBuilder()
        .setKind(toProto(payload.kind()))
        .setArrowIpc(payload.arrowIpc())
        .build();
  }

  static io.pyml.proto.v1.PayloadKind toProto(PayloadKind kind) {
    return switch (kind) {
      case DATAFRAME -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_DATAFRAME;
      case TENSORS -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_TENSORS;
      case UNSPECIFIED -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_UNSPECIFIED;
    };
  }

  static io.pyml.proto.v1.DeploymentState toProto(DeploymentState state) {
    return switch (state) {
      case PENDING -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_PENDING;
      case STARTING -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_STARTING;
      case LOADING -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_LOADING;
      case VALIDATING -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_VALIDATING;
      case READY -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_READY;
      case FAILED -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_FAILED;
      case STOPPED -> io.pyml.proto.v1.DeploymentState.DEPLOYMENT_STATE_STOPPED;
    };
  }
}
