package io.pyml.gateway.frontend.grpc;

import io.grpc.Context;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.gateway.dispatch.Dispatcher;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.PredictionServiceGrpc;

/** The client API's Predict: convert, call the dispatcher, map errors. Nothing else. */
public final class PredictionGrpcService extends PredictionServiceGrpc.PredictionServiceImplBase {
  private final Dispatcher dispatcher;

  public PredictionGrpcService(Dispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  /** The service to add to a server: requests parsed with one copy of their Arrow bytes. */
  public static ServerServiceDefinition definition(Dispatcher dispatcher) {
    return SingleCopyMarshaller.forRequests(new PredictionGrpcService(dispatcher).bindService(),
        PredictionServiceGrpc.getPredictMethod(), PredictRequest.getDefaultInstance());
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> response) {
    dispatcher.predict(ProtoConverters.toCall(request, Context.current().getDeadline()))
        .whenComplete((result, error) -> {
          if (error != null) {
            response.onError(GrpcErrors.toStatus(error));
          } else {
            response.onNext(ProtoConverters.toProto(result));
            response.onCompleted();
          }
        });
  }
}
