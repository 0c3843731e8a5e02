package io.pyml.gateway.frontend.grpc;

import io.grpc.Context;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.PredictionServiceGrpc;

/** The client API's Predict: convert, call the data plane, map errors. Nothing else. */
public final class PredictionGrpcService extends PredictionServiceGrpc.PredictionServiceImplBase {
  private final DataPlane plane;

  public PredictionGrpcService(DataPlane plane) {
    this.plane = plane;
  }

  /** The service to add to a server: requests parsed with one copy of their Arrow bytes. */
  public static ServerServiceDefinition definition(DataPlane plane) {
    return SingleCopyMarshaller.forRequests(new PredictionGrpcService(plane).bindService(),
        PredictionServiceGrpc.getPredictMethod(), PredictRequest.getDefaultInstance());
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> response) {
    GrpcReplies.answer(response, () -> plane.predict(
        ProtoConverters.toCall(request, Context.current().getDeadline())),
        ProtoConverters::toProto);
  }
}
