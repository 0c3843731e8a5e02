package io.pyml.gateway.frontend.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.proto.v1.PredictionServiceGrpc;
import org.junit.jupiter.api.Test;

class PredictionGrpcServiceTest {
  @Test
  void predictServiceParsesItsRequestsOnce() {
    ServerServiceDefinition service = PredictionGrpcService.definition(null);
    MethodDescriptor<?, ?> predict = service
        .getMethod(PredictionServiceGrpc.getPredictMethod().getFullMethodName())
        .getMethodDescriptor();
    assertInstanceOf(SingleCopyMarshaller.class, predict.getRequestMarshaller());
    assertEquals(PredictionServiceGrpc.getServiceDescriptor().getMethods().size(),
        service.getMethods().size());
    assertEquals(PredictionServiceGrpc.SERVICE_NAME, service.getServiceDescriptor().getName());
  }
}
