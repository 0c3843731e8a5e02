package io.pyml.gateway.frontend.oip;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.pyml.oip.v2.DataType;
import io.pyml.oip.v2.GRPCInferenceServiceGrpc;
import io.pyml.oip.v2.ModelConfigRequest;
import io.pyml.oip.v2.ModelConfigResponse;

/**
 * Triton's {@code ModelConfig} call, added to the V2 service under the same service name. It is
 * not in KServe's specification (so not in grpc_predict_v2.proto), but Triton's own tools ask for
 * it; a service is served as one definition, so its methods are copied into a new one with it.
 */
final class TritonExtension {
  static final MethodDescriptor<ModelConfigRequest, ModelConfigResponse> MODEL_CONFIG =
      MethodDescriptor.<ModelConfigRequest, ModelConfigResponse>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(
              GRPCInferenceServiceGrpc.SERVICE_NAME, "ModelConfig"))
          .setRequestMarshaller(ProtoUtils.marshaller(ModelConfigRequest.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(ModelConfigResponse.getDefaultInstance()))
          .build();

  private TritonExtension() {}

  static ServerServiceDefinition withModelConfig(OipService service) {
    ServerServiceDefinition v2 = service.bindService();
    ServerServiceDefinition.Builder builder =
        ServerServiceDefinition.builder(GRPCInferenceServiceGrpc.SERVICE_NAME);
    v2.getMethods().forEach(builder::addMethod);
    builder.addMethod(MODEL_CONFIG, ServerCalls.asyncUnaryCall(service::modelConfig));
    return builder.build();
  }

  /** Triton's names: BYTES is its TYPE_STRING. */
  static DataType dataType(Datatype datatype) {
    return datatype == Datatype.BYTES ? DataType.TYPE_STRING
        : DataType.valueOf("TYPE_" + datatype.name());
  }
}
